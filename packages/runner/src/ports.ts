import { createServer } from 'node:net';

/** The host every service listens on and every URL points at. */
export const localHost = '127.0.0.1';

/**
 * The first of `ports` that something already listens on, if any. Checked before starting,
 * because a service that cannot bind would otherwise look ready: the other process on its
 * port answers `/readyz` in its place.
 */
export async function findPortInUse(ports: readonly number[], host = localHost): Promise<number | undefined> {
  for (const port of ports) {
    if (!(await isPortFree(port, host))) return port;
  }
  return undefined;
}

function isPortFree(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/**
 * How to start a second shop beside one on `portBase`: a folder of its own (inside the checkout,
 * where nobody else can have made it) and ports 10,000 away, so that none of its ports (gRPC
 * 1000 above, admin 2000 above, the trace view, PostgreSQL) meets the first one's.
 */
export function secondShopHint(portBase: number): string {
  const other = portBase + 10_000 <= 54_000 ? portBase + 10_000 : portBase - 10_000;
  return `BATON_VAR_DIR=var-2 BATON_PORT_BASE=${other} npm start`;
}
