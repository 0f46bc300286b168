// A keep-alive loopback server answering a small JSON body, in a process of its own, as the
// service a client calls runs beside it, not inside it: a server in the client's own process
// takes turns with the client on one event loop, so its cost per request is added to every
// variant alike and pulls each ratio of clients toward 1 (bench/README.md, client-overhead).
// Run as a child, it prints `{"url": …}` once it listens, and exits when told to stop (SIGTERM).
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { loopbackServer } from './server.ts';

export interface JsonServerProcess {
  url: string;
  pid: number;
  /** Stops it (once, however often it is called). */
  stop(): Promise<void>;
}

/** Starts the server as a child process (the same Node), once it listens. */
export async function startJsonServerProcess(): Promise<JsonServerProcess> {
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const first = await lines.next();
  if (first.done === true || child.pid === undefined) throw new Error('the JSON server process did not start');
  const { url } = JSON.parse(first.value) as { url: string };
  const exited = once(child, 'exit');
  let stopped: Promise<void> | undefined;
  return {
    url,
    pid: child.pid,
    stop() {
      stopped ??= (async () => {
        child.kill('SIGTERM');
        await exited;
      })();
      return stopped;
    },
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const server = await loopbackServer((_req, res) => { res.setHeader('content-type', 'application/json'); res.end('{"ok":true}'); });
  process.stdout.write(`${JSON.stringify({ url: server.url })}\n`);
  process.once('SIGTERM', () => void server.close().then(() => process.exit(0)));
}
