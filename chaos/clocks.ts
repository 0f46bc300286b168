import { access, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

// Where Debian's libfaketime puts its library (package libfaketime).
const libfaketimePaths = ['/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1', '/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1', '/usr/lib/faketime/libfaketime.so.1'];

export interface Clocks {
  /** The variables that start a service under libfaketime, reading its offset from a file of its own. */
  environment(service: string): NodeJS.ProcessEnv;
  /** Moves the service's wall clock `offsetSeconds` from the machine's (0: back in step), within a second. */
  set(service: string, offsetSeconds: number): Promise<void>;
}

/**
 * Each service's wall clock, movable at run time: the services start under Debian's libfaketime
 * (`LD_PRELOAD`), each reading its offset from a file of its own, read again every second
 * (`FAKETIME_TIMESTAMP_FILE`, `FAKETIME_CACHE_DURATION`). The monotonic clock is left alone
 * (`DONT_FAKE_MONOTONIC`), so timers and deadlines run as they do, and only what a service reads
 * of the date (`Date.now()`: token times, timestamps) is off, as on a machine whose NTP failed.
 * Undefined when libfaketime is not installed (`apt-get install libfaketime`).
 */
export async function movableClocks(folder: string, services: readonly string[]): Promise<Clocks | undefined> {
  let library: string | undefined;
  for (const path of libfaketimePaths) {
    if (await access(path).then(() => true, () => false)) {
      library = path;
      break;
    }
  }
  if (library === undefined) return undefined;
  await mkdir(folder, { recursive: true });
  const fileOf = (service: string) => join(folder, service);
  // libfaketime's relative offset: "+300" is 5 minutes ahead, "-300" behind.
  const write = (service: string, offsetSeconds: number) => writeFile(fileOf(service), `${offsetSeconds >= 0 ? '+' : ''}${Math.trunc(offsetSeconds)}\n`);
  await Promise.all(services.map((service) => write(service, 0)));
  const preload = library;
  return {
    environment: (service) => ({ LD_PRELOAD: preload, FAKETIME_TIMESTAMP_FILE: fileOf(service), FAKETIME_CACHE_DURATION: '1', DONT_FAKE_MONOTONIC: '1' }),
    async set(service, offsetSeconds) {
      await write(service, offsetSeconds);
      // The service reads the file again within FAKETIME_CACHE_DURATION.
      await new Promise((resolve) => setTimeout(resolve, 1_100));
    },
  };
}
