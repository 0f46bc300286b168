// A helper process of a scenario's (a server, a collector), started from a file of the harness
// that prints one JSON line once it is ready, and may print one more as it stops: the one way
// each starts, and is told to stop (SIGTERM).
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';

export interface HelperProcess {
  /** What the process printed first, once it was ready. */
  ready: Record<string, unknown>;
  pid: number;
  /** Stops it (once, however often it is called); resolves with the last line it printed, if any. */
  stop(): Promise<string | undefined>;
}

/** Starts `file` with this Node, and resolves once it has printed its first line. */
export async function startHelperProcess(file: string, what: string): Promise<HelperProcess> {
  const child = spawn(process.execPath, [file], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const first = await lines.next();
  if (first.done === true || child.pid === undefined) throw new Error(`${what} did not start`);
  const exited = once(child, 'exit');
  let stopped: Promise<string | undefined> | undefined;
  return {
    ready: JSON.parse(first.value) as Record<string, unknown>,
    pid: child.pid,
    stop() {
      stopped ??= (async () => {
        child.kill('SIGTERM');
        const last = await lines.next();
        await exited;
        return last.done === true ? undefined : last.value;
      })();
      return stopped;
    },
  };
}
