import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** The server benchmarks make their databases on: `BENCH_POSTGRES_URL`, whose user may create databases. */
export const benchPostgresUrl = process.env.BENCH_POSTGRES_URL || 'postgres://postgres@127.0.0.1:5432/postgres';

/**
 * A fresh, empty database `baton_bench_<random>` on the benchmark server, and a `drop` that
 * removes it (`with (force)`, so a connection left open cannot keep it). Every service needs a
 * PostgreSQL database of its own, so a scenario that starts one makes one first.
 */
export async function createBenchDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `baton_bench_${randomBytes(5).toString('hex')}`;
  await onAdmin((admin) => admin.query(`create database ${name}`));
  const url = new URL(benchPostgresUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: () => onAdmin((admin) => admin.query(`drop database if exists ${name} with (force)`)),
  };
}

async function onAdmin(work: (admin: pg.Client) => Promise<unknown>): Promise<void> {
  const admin = new pg.Client({ connectionString: benchPostgresUrl });
  admin.on('error', () => {});
  await admin.connect();
  try {
    await work(admin);
  } finally {
    await admin.end();
  }
}
