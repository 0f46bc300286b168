import { connect, createServer, type Server, type Socket } from 'node:net';
import { addCleanup, type CleanupScope } from './cleanup.ts';
import { findFreePort } from './free-port.ts';

export interface PostgresProxy {
  /** The test database's URL, through the proxy (TCP on 127.0.0.1). */
  url: string;
  /** Cuts every connection (as when the server's machine goes away) and refuses new ones. */
  cut(): Promise<void>;
  /** Lets connections through again after `cut`. */
  open(): Promise<void>;
  /**
   * While true, a connection passes nothing on in either direction once the server has said it
   * is ready for a first query (its ReadyForQuery, `Z`): made, then answering nothing, as a
   * server frozen right after accepting it would. False at first.
   */
  stallAfterReady: boolean;
  /**
   * ReadyForQuery messages the server sent, on every connection: one a round trip (it ends each
   * answer). Counted by their five bytes in what passes, so statements whose answers carry those
   * bytes as data would be miscounted: a test that reads it sends none.
   */
  readies: number;
}

// ReadyForQuery: 'Z', its length (5), then the transaction status.
const readyForQuery = Buffer.from([0x5a, 0, 0, 0, 5]);

/**
 * A TCP proxy in front of the tests' real PostgreSQL, for the faults a network or a frozen server
 * makes. The tests' server takes its superuser through its socket (a folder in the URL's `host`):
 * the proxy listens on TCP and forwards there. (It destroys its sockets: resetAndDestroy() left
 * their handles open on Node 24.21, and the test process with them.)
 *
 * @example
 * const proxy = await startPostgresProxy(t, await createTestDatabase(t));
 * const db = openPostgres({ url: proxy.url });
 * await proxy.cut();
 */
export async function startPostgresProxy(t: CleanupScope, databaseUrl: string): Promise<PostgresProxy> {
  const direct = new URL(databaseUrl);
  const socketDir = direct.searchParams.get('host');
  const serverPort = Number(direct.port || 5432);
  const target: { host: string; port: number } | { path: string } = socketDir === null ? { host: direct.hostname, port: serverPort } : { path: `${socketDir}/.s.PGSQL.${serverPort}` };
  const port = await findFreePort();
  const sockets = new Set<Socket>();
  let server: Server | undefined;

  const proxy: PostgresProxy = {
    url: '',
    stallAfterReady: false,
    readies: 0,
    async cut() {
      // close() stops new connections and calls back once the open ones are gone: cut those now.
      const closed = new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
      server = undefined;
      for (const socket of sockets) socket.destroy();
      await closed;
    },
    open() {
      server = createServer((client) => {
        const upstream = 'path' in target ? connect(target.path) : connect(target.port, target.host);
        for (const [socket, other] of [[client, upstream], [upstream, client]] as const) {
          sockets.add(socket);
          socket.on('error', () => {});
          // One side gone, the other goes too: a half of a pair left open would keep the test alive.
          socket.on('close', () => {
            sockets.delete(socket);
            other.destroy();
          });
        }
        let ready = false;
        const stalled = () => proxy.stallAfterReady && ready;
        upstream.on('data', (chunk: Buffer) => {
          if (stalled()) return;
          client.write(chunk);
          for (let at = chunk.indexOf(readyForQuery); at !== -1; at = chunk.indexOf(readyForQuery, at + 1)) {
            ready = true;
            proxy.readies++;
          }
        });
        client.on('data', (chunk: Buffer) => {
          if (!stalled()) upstream.write(chunk);
        });
      });
      return new Promise((resolve) => server!.listen(port, '127.0.0.1', resolve));
    },
  };
  const throughProxy = new URL(databaseUrl);
  throughProxy.searchParams.delete('host');
  throughProxy.hostname = '127.0.0.1';
  throughProxy.port = String(port);
  proxy.url = throughProxy.toString();
  await proxy.open();
  addCleanup(t, () => proxy.cut());
  return proxy;
}
