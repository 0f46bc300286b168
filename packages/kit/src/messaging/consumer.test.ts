import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { openPostgres, type Database } from '../db/index.ts';
import { addCleanup, createSilentLogger, createSuiteDatabase, createSuiteScope, createTestDatabase, itemAdded, itemRemoved } from '../testing/index.ts';
import { createEventConsumer, on } from './consumer.ts';
import type { EventConsumer } from './event-consumer.ts';
import { listDeadLetters, replayAllDeadLetters, replayDeadLetter } from './dead-letters.ts';
import { createOutbox, migrateMessaging } from './outbox.ts';
import type { CloudEvent } from './cloud-event.ts';

// The consumer's guarantees on a real PostgreSQL, driven delivery by delivery as a transport
// would drive them: the order and number of deliveries is the point here. The tests share one
// database; each has its own subscription, table and aggregates, so none sees another's rows.

const suite = createSuiteScope();
let db: Database;
let tests = 0;
before(async () => {
  db = openPostgres({ url: await createSuiteDatabase(suite), applicationName: 'baton-consumer-test' });
  addCleanup(suite, () => db.close());
  await migrateMessaging(db);
});

async function setup({ failFor = new Set<string>(), maxAttempts = 3, parallelBatches = 4 } = {}) {
  tests += 1;
  // Counts the consumer's transactions, to see deliveries share them.
  const transactions = { count: 0 };
  const counted: Database = { ...db, transaction: (work, options) => {
    transactions.count += 1;
    return db.transaction(work, options);
  } };
  const table = `shelf_${tests}`;
  const subscription = `shelf-keeper-${tests}`;
  await db.exec(`create table ${table} (item text not null, event_id text primary key, kind text not null, seq bigserial)`);
  const consumer = createEventConsumer({
    db: counted, subscription, logger: createSilentLogger(), maxAttempts, retryBaseMs: 10, retryMaxMs: 20, parallelBatches,
    handlers: [
      on(itemAdded, async (event, { tx }) => {
        await tx.query(`insert into ${table} (item, event_id, kind) values ($1, $2, $3)`, [event.data.item, event.id, 'added']);
        if (failFor.has(event.data.item)) throw new Error(`no room for ${event.data.item}`);
      }),
      on(itemRemoved, async (event, { tx }) => {
        await tx.query(`insert into ${table} (item, event_id, kind) values ($1, $2, $3)`, [event.data.item, event.id, 'removed']);
      }),
    ],
  });
  const outbox = createOutbox({ domain: 'shelf' });
  const write = (aggregateId: string, removed = false) => db.transaction((tx) => removed
    ? outbox.add(tx, itemRemoved, { aggregateId, data: { item: aggregateId } })
    : outbox.add(tx, itemAdded, { aggregateId, data: { item: aggregateId, n: 1 } }));
  const applied = async () => (await db.query<{ event_id: string; kind: string }>(`select event_id, kind from ${table} order by seq`)).rows;
  return { db, consumer, write, applied, subscription, transactions };
}

async function deliverUntilSettled(consumer: EventConsumer, event: CloudEvent, maxAttempts: number) {
  for (let attempt = 1; ; attempt++) {
    const outcome = await consumer.deliver(event, attempt);
    if (outcome.kind !== 'retry' || attempt >= maxAttempts) return { outcome, attempt };
  }
}

void describe('the event consumer', () => {
  void test('a redelivered event is applied once: its handler writes and the inbox row commit together', async () => {
    const { consumer, write, applied } = await setup();
    const event = await write('mug');
    for (let i = 0; i < 3; i++) assert.deepEqual(await consumer.deliver(event, i + 1), { kind: 'done' });
    assert.deepEqual(await applied(), [{ event_id: event.id, kind: 'added' }]);
  });

  void test('a later event of an aggregate waits for the earlier one, then both apply in order', async () => {
    const { consumer, write, applied } = await setup();
    const created = await write('kettle');
    const removed = await write('kettle', true);
    assert.equal(removed.subjectseq, 2);
    // Delivered out of order, as a broker may after a redelivery.
    const early = await consumer.deliver(removed, 1);
    assert.equal(early.kind, 'retry', 'the removal is not applied before its aggregate\'s first event');
    assert.deepEqual(await applied(), []);
    assert.deepEqual(await consumer.deliver(created, 1), { kind: 'done' });
    assert.deepEqual(await consumer.deliver(removed, 2), { kind: 'done' });
    assert.deepEqual((await applied()).map((row) => row.kind), ['added', 'removed']);
  });

  void test('a failing handler leaves nothing behind, is retried, and after its last attempt becomes a dead letter with its error', async () => {
    const failFor = new Set(['teapot']);
    const { consumer, write, applied, subscription } = await setup({ failFor, maxAttempts: 3 });
    const event = await write('teapot');
    const { outcome, attempt } = await deliverUntilSettled(consumer, event, 3);
    assert.equal(attempt, 3);
    assert.equal(outcome.kind, 'dead');
    assert.deepEqual(await applied(), [], 'the handler\'s insert rolled back every time');
    const [letter, ...others] = await listDeadLetters(db, subscription);
    assert.equal(others.length, 0);
    assert.equal(letter?.eventId, event.id);
    assert.equal(letter?.attempts, 3);
    assert.match(letter?.error ?? '', /no room for teapot/);

    // Replay before the fix: it fails again, stays, and says why.
    await assert.rejects(replayDeadLetter(db, consumer, letter!.id), /no room for teapot/);
    assert.equal((await listDeadLetters(db, subscription)).length, 1);

    failFor.clear(); // the fix
    assert.equal((await replayDeadLetter(db, consumer, letter!.id)).result, 'handled');
    assert.equal((await replayDeadLetter(db, consumer, letter!.id)).result, 'duplicate', 'a second replay applies nothing');
    assert.deepEqual(await consumer.deliver(event, 4), { kind: 'done' }, 'nor does a late redelivery');
    assert.deepEqual(await applied(), [{ event_id: event.id, kind: 'added' }]);
    assert.equal((await listDeadLetters(db, subscription)).length, 0);
  });

  void test('replaying all dead letters applies an aggregate\'s events in order, once', async () => {
    const failFor = new Set(['grinder']);
    const { consumer, write, applied, subscription } = await setup({ failFor, maxAttempts: 2 });
    const created = await write('grinder');
    const removed = await write('grinder', true);
    assert.equal((await deliverUntilSettled(consumer, created, 2)).outcome.kind, 'dead');
    // Its successor can never apply while the first is dead: it dies too, waiting.
    const second = await deliverUntilSettled(consumer, removed, 2);
    assert.equal(second.outcome.kind, 'dead');
    assert.match((await listDeadLetters(db, subscription))[1]?.error ?? '', /arrived before event 1/);
    failFor.clear();
    const results = await replayAllDeadLetters(db, consumer);
    assert.deepEqual(results.map((r) => ('result' in r ? r.result : r.error)), ['handled', 'handled']);
    assert.deepEqual((await applied()).map((row) => row.kind), ['added', 'removed']);
    assert.deepEqual(await replayAllDeadLetters(db, consumer), []);
  });

  void test('at shutdown a delivery is handed back, never dead-lettered', async () => {
    const failFor = new Set(['press']);
    const { consumer, write, subscription } = await setup({ failFor, maxAttempts: 1 });
    const event = await write('press');
    consumer.shutdown();
    assert.deepEqual(await consumer.deliver(event, 1), { kind: 'release' });
    assert.deepEqual(await listDeadLetters(db, subscription), []);
  });

  void test('an event whose data does not match its contract is refused, not applied, and parked at its first delivery (no attempt could ever apply it)', async () => {
    const { consumer, write, applied, subscription } = await setup({ maxAttempts: 5 });
    const event = await write('scale');
    const broken = { ...event, id: 'broken-1', data: { item: 42 } } as CloudEvent;
    assert.equal((await consumer.deliver(broken, 1)).kind, 'dead');
    const [letter] = await listDeadLetters(db, subscription);
    assert.match(letter?.error ?? '', /does not match urn:baton:event:item.added:1/);
    assert.equal(letter?.attempts, 1);
    assert.deepEqual(await applied(), []);
    // A newer schema version than it reads is refused the same way.
    const newer = { ...event, id: 'newer-1', dataschema: 'urn:baton:event:item.added:2' };
    assert.equal((await consumer.deliver(newer, 1)).kind, 'dead');
  });

  void test('deliveries that arrive together share one transaction; a failing one rolls back alone and the others commit', async () => {
    const failFor = new Set(['sieve']);
    // One transaction at a time, so the burst is not spread over several and the count is exact.
    const { consumer, write, applied, transactions } = await setup({ failFor, maxAttempts: 5, parallelBatches: 1 });
    const items = ['cup', 'bowl', 'sieve', 'plate', 'jug'];
    const created: CloudEvent[] = [];
    for (const item of items) created.push(await write(item));
    const cupRemoved = await write('cup', true);
    const before = transactions.count;
    // One burst, as a transport hands over a pull: the cup's removal comes with its creation.
    const outcomes = await Promise.all([...created, cupRemoved].map((event) => consumer.deliver(event, 1)));
    assert.deepEqual(outcomes.map((o) => o.kind), ['done', 'done', 'retry', 'done', 'done', 'done']);
    assert.equal(transactions.count - before, 2, 'the five aggregates in one transaction; the cup\'s second event in the next, after its first');
    assert.deepEqual((await applied()).map((row) => row.event_id), [created[0]!.id, created[1]!.id, created[3]!.id, created[4]!.id, cupRemoved.id],
      'the sieve\'s insert was rolled back to its savepoint; the others of its batch committed');

    // Its claim was taken back with it: a redelivery applies it, once.
    failFor.clear();
    assert.deepEqual(await consumer.deliver(created[2]!, 2), { kind: 'done' });
    assert.deepEqual(await consumer.deliver(created[2]!, 3), { kind: 'done' });
    assert.equal((await applied()).filter((row) => row.event_id === created[2]!.id).length, 1);
  });
});

void describe('the event consumer on PostgreSQL', () => {
  void test('a burst over several open transactions applies every event once, in order per aggregate, with transactions open side by side', async (t) => {
    const url = await createTestDatabase(t);
    if (url === undefined) return;
    const pgDb = openPostgres({ url, applicationName: 'baton-consumer-test' });
    addCleanup(t, () => pgDb.close());
    await migrateMessaging(pgDb);
    // No key on event_id: an event applied twice would show as two rows.
    await pgDb.exec('create table shelf (item text not null, event_id text not null, kind text not null, at timestamptz not null default clock_timestamp())');
    const open = new Set<number>();
    let mostOpen = 0;
    const counted: Database = { ...pgDb, transaction: async (work, options) => {
      const id = Math.random();
      open.add(id);
      mostOpen = Math.max(mostOpen, open.size);
      try {
        return await pgDb.transaction(work, options);
      } finally {
        open.delete(id);
      }
    } };
    const consumer = createEventConsumer({
      db: counted, subscription: 'shelf-keeper', logger: createSilentLogger(), retryBaseMs: 5, retryMaxMs: 10,
      handlers: [
        on(itemAdded, async (event, { tx }) => {
          await tx.query(`insert into shelf (item, event_id, kind) values ($1, $2, 'added')`, [event.data.item, event.id]);
          await sleep(20); // an email, say
        }),
        on(itemRemoved, async (event, { tx }) => {
          await tx.query(`insert into shelf (item, event_id, kind) values ($1, $2, 'removed')`, [event.data.item, event.id]);
        }),
      ],
    });
    const outbox = createOutbox({ domain: 'shelf' });
    const events: CloudEvent[] = [];
    for (let i = 0; i < 12; i++) {
      events.push(await pgDb.transaction((tx) => outbox.add(tx, itemAdded, { aggregateId: `pot-${i}`, data: { item: `pot-${i}`, n: i } })));
      events.push(await pgDb.transaction((tx) => outbox.add(tx, itemRemoved, { aggregateId: `pot-${i}`, data: { item: `pot-${i}` } })));
    }
    // Every event at once, each one twice, the removals first: as a broker might after redeliveries.
    const burst = [...events.filter((e) => e.type === 'item.removed'), ...events, ...events.filter((e) => e.type === 'item.added')];
    await Promise.all(burst.map(async (event) => {
      for (let attempt = 1; attempt <= 20; attempt++) {
        const outcome = await consumer.deliver(event, attempt);
        if (outcome.kind === 'done') return;
        assert.equal(outcome.kind, 'retry');
        await sleep(5);
      }
      assert.fail(`${event.subject} #${event.subjectseq} never applied`);
    }));
    const { rows } = await pgDb.query<{ item: string; kind: string }>('select item, kind from shelf order by at');
    assert.equal(rows.length, 24, 'each event applied once');
    for (let i = 0; i < 12; i++) {
      assert.deepEqual(rows.filter((r) => r.item === `pot-${i}`).map((r) => r.kind), ['added', 'removed'], `pot-${i} in order`);
    }
    assert.ok(mostOpen > 1, `transactions were open side by side (at most ${mostOpen})`);
  });
});
