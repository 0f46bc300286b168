import { superuser } from './cluster.ts';

/**
 * The superuser's URL through the server's socket folder, e.g.
 * `postgres://postgres@localhost:8432/postgres?host=%2Fhome%2Fme%2Fbaton%2Fvar%2Fpostgres`.
 * node-postgres and libpq (psql) both read `host` as the socket's folder; the port names the socket.
 */
export function socketAdminUrl(socketDir: string, port: number, database = 'postgres'): string {
  const url = new URL(`postgres://${superuser}@localhost:${port}/${database}`);
  url.searchParams.set('host', socketDir);
  return url.toString();
}
