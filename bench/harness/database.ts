import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { startLocalPostgres, type LocalPostgres } from '../../packages/local-postgres/src/index.ts';

let localServer: Promise<LocalPostgres> | undefined;

/**
 * The server benchmarks make their databases on: `BENCH_POSTGRES_URL` (a user that may create
 * databases), else a PostgreSQL of the bench run's own, started on first use and durable like
 * `npm start`'s (it waits for the disk), in a temporary folder removed when the run ends.
 */
export function benchPostgresUrl(): Promise<string> {
  const named = process.env.BENCH_POSTGRES_URL;
  if (named !== undefined && named !== '') return Promise.resolve(named);
  localServer ??= startLocalPostgres({ durability: 'durable' });
  return localServer.then((server) => server.adminUrl);
}

/**
 * A fresh, empty database `baton_bench_<random>` on the benchmark server, and a `drop` that
 * removes it (`with (force)`, so a connection left open cannot keep it). Every service needs a
 * PostgreSQL database of its own, so a scenario that starts one makes one first.
 */
export async function createBenchDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `baton_bench_${randomBytes(5).toString('hex')}`;
  const adminUrl = await benchPostgresUrl();
  await onDatabase(adminUrl, (admin) => admin.query(`create database ${name}`));
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: () => onDatabase(adminUrl, (admin) => admin.query(`drop database if exists ${name} with (force)`)),
  };
}

/** One connection to `url` for `work`, closed after it whatever happens: a bench's setup statements. */
export async function onDatabase(url: string, work: (client: pg.Client) => Promise<unknown>): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => {});
  await client.connect();
  try {
    await work(client);
  } finally {
    await client.end();
  }
}
