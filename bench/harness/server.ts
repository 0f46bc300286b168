import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';

/** A keep-alive HTTP server on loopback, for one scenario; `close()` ends every socket. */
export async function loopbackServer(handle: (req: IncomingMessage, res: ServerResponse) => void) {
  const server = createServer({ keepAliveTimeout: 10_000 }, handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}
