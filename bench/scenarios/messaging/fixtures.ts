import { setTimeout as sleep } from 'node:timers/promises';
import { openPostgres, type Database } from '../../../packages/kit/src/db/index.ts';
import { migrateMessaging } from '../../../packages/kit/src/messaging/index.ts';
import { createSilentLogger } from '../../../packages/kit/src/testing/index.ts';
import { benchPostgresUrl, createBenchDatabase } from '../../harness/database.ts';

export const natsUrl = process.env.BENCH_NATS_URL || 'nats://127.0.0.1:4222';
export { benchPostgresUrl };
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

/** A fresh PostgreSQL database with the kit's messaging tables, dropped at cleanup. */
export async function freshDb(cleanups: Cleanups): Promise<Database> {
  const database = await createBenchDatabase();
  const db = openPostgres({ url: database.url, applicationName: 'baton-bench' });
  cleanups.push(async () => {
    await db.close();
    await database.drop();
  });
  await migrateMessaging(db);
  return db;
}

/** The table the consumers' handlers write: one row per event. */
export async function withSink(db: Database): Promise<Database> {
  await db.exec('create table if not exists shelf (item text not null, n integer not null, event_id text primary key)');
  return db;
}
