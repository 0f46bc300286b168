import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import { migrate, openPostgres, type Database } from '../db/index.ts';
import { addCleanup, createSilentLogger, createTempDir, createTestDatabase } from '../testing/index.ts';
import { messagingMigrationsDir, migrateMessaging } from './outbox.ts';
import { startOutboxRelay } from './relay.ts';
import type { EventPublisher, OutboxRecord } from './transport.ts';

// A database that relayed under the first schema (a `sent_at` on each outbox row) moves to the
// pending list without losing an unsent event or sending a sent one again.

async function migrateFromFirstSchema(t: TestContext, db: Database): Promise<void> {
  const firstOnly = await createTempDir(t);
  await copyFile(join(messagingMigrationsDir, '0001_baton_messaging.sql'), join(firstOnly, '0001_baton_messaging.sql'));
  await migrate(db, firstOnly);
  await db.exec(`
    insert into baton_outbox (event_id, aggregate_id, sequence, type, event, sent_at) values
      ('00000000-0000-4000-8000-000000000001', 'order-1', 1, 'order.created', '{}', now()),
      ('00000000-0000-4000-8000-000000000002', 'order-1', 2, 'order.cancelled', '{}', null),
      ('00000000-0000-4000-8000-000000000003', 'order-2', 1, 'order.created', '{}', null);`);
  await migrateMessaging(db);
}

async function check(db: Database): Promise<void> {
  const pending = await db.query<{ event_id: string; aggregate_id: string }>(
    `select o.event_id, q.aggregate_id from baton_outbox_pending q join baton_outbox o on o.position = q.position order by q.position`);
  assert.deepEqual(pending.rows, [
    { event_id: '00000000-0000-4000-8000-000000000002', aggregate_id: 'order-1' },
    { event_id: '00000000-0000-4000-8000-000000000003', aggregate_id: 'order-2' },
  ], 'the two unsent events are pending, the sent one is not');
  const kept = await db.query<{ n: number }>('select count(*)::int as n from baton_outbox');
  assert.equal(kept.rows[0]?.n, 3, 'every event stays in the outbox');
  // The relay, once started on it, publishes exactly those two.
  const published: OutboxRecord[] = [];
  const publisher: EventPublisher = {
    kind: 'nats',
    async publish(records) {
      published.push(...records);
      return records.map(() => ({ ok: true as const }));
    },
    check: async () => {},
    close: async () => {},
  };
  const relay = startOutboxRelay({ db, publisher, logger: createSilentLogger() }, { pollIntervalMs: 10 });
  try {
    await relay.drain();
  } finally {
    await relay.stop();
  }
  assert.deepEqual(published.map((record) => record.position).sort((a, b) => a - b), [2, 3], 'the relay publishes the two unsent events, one per aggregate, and not the sent one');
}

test('moving to the pending list keeps the unsent events pending and the sent ones sent', async (t) => {
  const url = await createTestDatabase(t);
  if (url === undefined) return;
  const db = openPostgres({ url, applicationName: 'baton-migration-test' });
  addCleanup(t, () => db.close());
  await migrateFromFirstSchema(t, db);
  await check(db);
});

test('the relay functions PGlite used are dropped, and the inbox claim the consumer calls stays', async (t) => {
  const url = await createTestDatabase(t);
  if (url === undefined) return;
  const db = openPostgres({ url, applicationName: 'baton-migration-test' });
  addCleanup(t, () => db.close());
  await migrateMessaging(db);
  const { rows } = await db.query<{ proname: string }>(
    `select proname from pg_proc where proname like 'baton\\_%' and pronamespace = 'public'::regnamespace order by proname`);
  assert.deepEqual(rows.map((row) => row.proname), ['baton_inbox_claim']);
});
