import http2 from 'node:http2';
import type { ConnectRouter } from '@connectrpc/connect';

/**
 * A bare Connect-ES server on loopback for the client's tests: whatever routes the test gives,
 * with none of the kit's server interceptors, so the client is tested on its own.
 */
export async function startFixtureServer(routes: (router: ConnectRouter) => void): Promise<{ url: string; close(): Promise<void> }> {
  // Loaded here, not with @baton/kit/testing, which every test imports and few need Connect in.
  const { connectNodeAdapter } = await import('@connectrpc/connect-node');
  const server = http2.createServer(connectNodeAdapter({ routes }));
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('session', (session) => {
    sessions.add(session);
    session.once('close', () => sessions.delete(session));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => {
      for (const session of sessions) session.destroy();
      server.close(() => resolve());
    }),
  };
}
