// A kit trace collector in a process of its own, as an OTLP collector runs beside the services
// it serves, not inside the program that loads them: `startCollectorProcess()` starts this file.
// Run as a child, it prints `{"url": …}` once it listens and, when told to stop (SIGTERM),
// `{"receivedSpans": n}`, then exits.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { startTraceCollector } from '../../packages/kit/src/telemetry/collector/index.ts';

export interface CollectorProcess {
  url: string;
  pid: number;
  /** Stops it (once, however often it is called); resolves with how many spans it received. */
  stop(): Promise<number>;
}

/** Starts the collector as a child process (the same Node), once it listens. */
export async function startCollectorProcess(): Promise<CollectorProcess> {
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const first = await lines.next();
  if (first.done === true || child.pid === undefined) throw new Error('the trace collector process did not start');
  const { url } = JSON.parse(first.value) as { url: string };
  const exited = once(child, 'exit');
  let stopped: Promise<number> | undefined;
  return {
    url,
    pid: child.pid,
    stop() {
      stopped ??= (async () => {
        child.kill('SIGTERM');
        const last = await lines.next();
        await exited;
        return last.done === true ? 0 : (JSON.parse(last.value) as { receivedSpans: number }).receivedSpans;
      })();
      return stopped;
    },
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const collector = await startTraceCollector({ maxTraces: 100 });
  process.stdout.write(`${JSON.stringify({ url: collector.url })}\n`);
  process.once('SIGTERM', () => {
    void collector.close().then(() => process.stdout.write(`${JSON.stringify({ receivedSpans: collector.store.receivedSpans })}\n`));
  });
}
