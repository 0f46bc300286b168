import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { openMemoryPglite, openPostgres, type Database } from '../../../packages/kit/src/db/index.ts';
import { migrateMessaging } from '../../../packages/kit/src/messaging/index.ts';
import { createSilentLogger } from '../../../packages/kit/src/testing/index.ts';

export const natsUrl = process.env.BENCH_NATS_URL || 'nats://127.0.0.1:4222';
export const postgresUrl = process.env.BENCH_POSTGRES_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
export const logger = createSilentLogger('bench');

export type Cleanups = Array<() => Promise<unknown>>;

export async function until(check: () => Promise<boolean> | boolean, limitMs = 120_000): Promise<void> {
  const giveUpAt = performance.now() + limitMs;
  while (!(await check())) {
    if (performance.now() > giveUpAt) throw new Error('the benchmark stalled');
    await sleep(5);
  }
}

/** A promise that resolves once `count` has been reached by the returned `add`. */
export function counter(target: number) {
  let n = 0;
  let reached!: () => void;
  const done = new Promise<void>((resolve) => { reached = resolve; });
  return {
    add(by = 1) {
      n += by;
      if (n >= target) reached();
    },
    get value() { return n; },
    done,
  };
}

/** A database with the kit's messaging tables, dropped at cleanup: in-memory PGlite, or a fresh PostgreSQL database. */
export async function freshDb(kind: 'pglite' | 'postgres', cleanups: Cleanups): Promise<Database> {
  if (kind === 'pglite') {
    const db = await openMemoryPglite();
    cleanups.push(() => db.close());
    await migrateMessaging(db);
    return db;
  }
  const name = `baton_bench_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: postgresUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(postgresUrl);
  url.pathname = `/${name}`;
  const db = openPostgres({ url: url.toString(), applicationName: 'baton-bench' });
  cleanups.push(async () => {
    await db.close();
    const dropper = new pg.Client({ connectionString: postgresUrl });
    await dropper.connect();
    await dropper.query(`drop database if exists ${name} with (force)`);
    await dropper.end();
  });
  await migrateMessaging(db);
  return db;
}

/** The table the consumers' handlers write: one row per event. */
export async function withSink(db: Database): Promise<Database> {
  await db.exec('create table if not exists shelf (item text not null, n integer not null, event_id text primary key)');
  return db;
}
