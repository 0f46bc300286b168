// A kit trace collector in a process of its own, as an OTLP collector runs beside the services
// it serves, not inside the program that loads them: `startCollectorProcess()` starts this file.
// Run as a child, it prints `{"url": …}` once it listens and, when told to stop (SIGTERM),
// `{"receivedSpans": n}`, then exits.
import { fileURLToPath } from 'node:url';
import { startTraceCollector } from '../../packages/kit/src/telemetry/collector/index.ts';
import { startHelperProcess } from './child-process.ts';

export interface CollectorProcess {
  url: string;
  pid: number;
  /** Stops it (once, however often it is called); resolves with how many spans it received. */
  stop(): Promise<number>;
}

/** Starts the collector as a child process (the same Node), once it listens. */
export async function startCollectorProcess(): Promise<CollectorProcess> {
  const helper = await startHelperProcess(fileURLToPath(import.meta.url), 'the trace collector process');
  return {
    url: helper.ready.url as string,
    pid: helper.pid,
    stop: async () => {
      const last = await helper.stop();
      return last === undefined ? 0 : (JSON.parse(last) as { receivedSpans: number }).receivedSpans;
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
