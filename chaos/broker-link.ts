import { createServer, connect, type Server, type Socket } from 'node:net';

export interface BrokerLink {
  /** The port the services are told the broker is on. */
  readonly port: number;
  /** Cuts the link: every connection through it reset, new ones refused (nothing listens). */
  cut(): Promise<void>;
  /** Listens again on the same port: the services' clients reconnect on their own. */
  restore(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The services' one way to a broker (a NATS or RabbitMQ server of the machine's): a TCP relay on
 * a port of its own, which a scenario cuts and restores, so "the broker is down" happens on the
 * wire, as a crash or a partition of the broker looks to its clients, without touching a server
 * other runs share. Written here because it is a dozen lines of `node:net`.
 */
export async function startBrokerLink(target: { host: string; port: number }): Promise<BrokerLink> {
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  let port = 0;
  const listen = () => new Promise<void>((resolve, reject) => {
    const relay = createServer((client) => {
      const upstream = connect(target);
      for (const socket of [client, upstream]) {
        sockets.add(socket);
        socket.once('close', () => sockets.delete(socket));
        socket.on('error', () => { client.destroy(); upstream.destroy(); });
      }
      client.pipe(upstream).pipe(client);
    });
    relay.once('error', reject);
    relay.listen(port, '127.0.0.1', () => {
      port = (relay.address() as { port: number }).port;
      server = relay;
      resolve();
    });
  });
  const cut = async () => {
    const closing = server;
    server = undefined;
    if (closing !== undefined) await new Promise<void>((resolve) => { closing.close(() => resolve()); for (const socket of sockets) socket.destroy(); });
  };
  await listen();
  return {
    get port() { return port; },
    cut,
    restore: listen,
    close: cut,
  };
}

/** Whether something answers on the port: the broker a run needs is there. */
export function reachable(target: { host: string; port: number }): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(target);
    socket.setTimeout(2_000);
    socket.once('connect', () => { socket.destroy(); resolve(true); });
    socket.once('timeout', () => { socket.destroy(); resolve(false); });
    socket.once('error', () => resolve(false));
  });
}
