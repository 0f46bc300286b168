import { readFile } from 'node:fs/promises';

// Linux's clock tick (getconf CLK_TCK): 100 on every kernel the shop runs on; the unit of utime and stime.
const ticksPerSecond = 100;

export interface ProcessSample {
  /** User and system CPU time used so far, in ms. */
  cpuMs: number;
  rssBytes: number;
  /** When it started, in ms since the epoch. */
  startedAtMs: number;
  /** Stopped by a signal (SIGSTOP): frozen, its connections open, answering nothing. */
  frozen: boolean;
}

let bootTimeMs: number | undefined;

/** When the machine started (`btime` of /proc/stat), in ms since the epoch: a process's start is counted from it. */
async function bootTime(): Promise<number> {
  bootTimeMs ??= Number(/^btime (\d+)$/m.exec(await readFile('/proc/stat', 'utf8'))?.[1] ?? 0) * 1_000;
  return bootTimeMs;
}

/** What Linux says of a process now (/proc/<pid>/stat and status); undefined once it is gone, or off Linux. */
export async function sampleProcess(pid: number): Promise<ProcessSample | undefined> {
  try {
    const [stat, status] = await Promise.all([readFile(`/proc/${pid}/stat`, 'utf8'), readFile(`/proc/${pid}/status`, 'utf8')]);
    // The fields after the command (which may hold spaces): utime is the 14th field, stime the 15th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const rssKb = Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? 0);
    // starttime, the 22nd field: clock ticks after boot.
    const startedAtMs = (await bootTime()) + (Number(fields[19]) * 1000) / ticksPerSecond;
    return { cpuMs: ((Number(fields[11]) + Number(fields[12])) * 1000) / ticksPerSecond, rssBytes: rssKb * 1024, startedAtMs, frozen: fields[0] === 'T' };
  } catch {
    return undefined;
  }
}

/** The share of one core a process used between two samples `elapsedMs` apart: 1 is a whole core. */
export function coresUsed(before: ProcessSample | undefined, after: ProcessSample | undefined, elapsedMs: number): number | undefined {
  if (before === undefined || after === undefined || elapsedMs <= 0) return undefined;
  return Math.max(0, after.cpuMs - before.cpuMs) / elapsedMs;
}
