// A keep-alive loopback server answering a small JSON body, in a process of its own, as the
// service a client calls runs beside it, not inside it: a server in the client's own process
// takes turns with the client on one event loop, so its cost per request is added to every
// variant alike and pulls each ratio of clients toward 1 (bench/README.md, client-overhead).
// Run as a child, it prints `{"url": …}` once it listens, and exits when told to stop (SIGTERM).
import { fileURLToPath } from 'node:url';
import { startHelperProcess } from './child-process.ts';
import { loopbackServer } from './server.ts';

/** Starts the server as a child process (the same Node), once it listens; `stop()` ends it. */
export async function startJsonServerProcess(): Promise<{ url: string; stop(): Promise<unknown> }> {
  const helper = await startHelperProcess(fileURLToPath(import.meta.url), 'the JSON server process');
  return { url: helper.ready.url as string, stop: helper.stop };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const server = await loopbackServer((_req, res) => { res.setHeader('content-type', 'application/json'); res.end('{"ok":true}'); });
  process.stdout.write(`${JSON.stringify({ url: server.url })}\n`);
  process.once('SIGTERM', () => void server.close().then(() => process.exit(0)));
}
