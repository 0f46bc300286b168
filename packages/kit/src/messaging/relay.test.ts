import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { openPostgres, type Database } from '../db/index.ts';
import { addCleanup, createSilentLogger, createTestDatabase, writeEvents } from '../testing/index.ts';
import { migrateMessaging } from './outbox.ts';
import { startOutboxRelay } from './relay.ts';
import type { BrokerPublisher, OutboxRecord } from './transport.ts';

// The relay's rules, with the broker replaced by a recorder: what it is handed, when, and how
// often is what these tests look at. The real brokers are in transports/*.test.ts, the feed's
// pass (a script on the database, no broker) in transports/feed-publisher.test.ts.

interface Recorder extends BrokerPublisher {
  published: OutboxRecord[];
  /** The largest number of publish calls that were ever in flight at once, over all relays. */
  maxInFlight: number;
  /** Positions handed to two publishes that overlapped in time. */
  overlapping: number[];
  /** Aggregates that had two events out at once. */
  aggregatesTwiceInFlight: string[];
}

function createRecorder({ failOnce = new Set<string>(), delayMs = 0, kind = 'nats' as BrokerPublisher['kind'] } = {}): Recorder {
  const inFlight = new Set<number>();
  const aggregatesInFlight = new Set<string>();
  const recorder: Recorder = {
    kind,
    published: [],
    maxInFlight: 0,
    overlapping: [],
    aggregatesTwiceInFlight: [],
    async publish(records) {
      for (const r of records) {
        if (inFlight.has(r.position)) recorder.overlapping.push(r.position);
        if (aggregatesInFlight.has(r.event.subject)) recorder.aggregatesTwiceInFlight.push(r.event.subject);
        inFlight.add(r.position);
        aggregatesInFlight.add(r.event.subject);
      }
      recorder.maxInFlight = Math.max(recorder.maxInFlight, inFlight.size);
      if (delayMs > 0) await sleep(delayMs);
      for (const r of records) {
        inFlight.delete(r.position);
        aggregatesInFlight.delete(r.event.subject);
      }
      return records.map((r) => {
        if (failOnce.delete(r.event.id)) return { ok: false as const, error: new Error('broker said no') };
        recorder.published.push(r);
        return { ok: true as const };
      });
    },
    check: async () => {},
    close: async () => {},
  };
  return recorder;
}

async function unsent(db: Database): Promise<number> {
  const { rows } = await db.query<{ n: number }>('select count(*)::int as n from baton_outbox_pending');
  return rows[0]?.n ?? -1;
}

async function waitUntil(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (await check()) return;
    await sleep(25);
  }
  assert.fail(`gave up waiting: ${what}`);
}

/** Per aggregate, the sequence numbers in the order they were published. */
function sequencesByAggregate(records: readonly OutboxRecord[]): Map<string, number[]> {
  const by = new Map<string, number[]>();
  for (const { event } of records) by.set(event.subject, [...(by.get(event.subject) ?? []), event.subjectseq]);
  return by;
}

async function open(t: TestContext): Promise<{ db: Database } | undefined> {
  const url = await createTestDatabase(t);
  if (url === undefined) return undefined;
  const db = openPostgres({ url, applicationName: 'baton-relay-test' });
  addCleanup(t, () => db.close());
  return { db };
}

void describe('the outbox relay', () => {
  void test('publishes every event once, in batches, in order per aggregate, and marks it sent', async (t) => {
    const opened = await open(t);
    if (opened === undefined) return;
    const { db } = opened;
    await migrateMessaging(db);
    const written = await writeEvents(db, { count: 120, aggregates: 7 });
    const recorder = createRecorder();
    const relay = startOutboxRelay({ db, publisher: recorder, logger: createSilentLogger() }, { batchSize: 25, pollIntervalMs: 10 });
    addCleanup(t, () => relay.stop());
    await waitUntil(async () => (await unsent(db)) === 0, 'every event sent');
    assert.equal(recorder.published.length, 120);
    assert.deepEqual(new Set(recorder.published.map((r) => r.event.id)), new Set(written.map((e) => e.id)));
    const byId = new Map(recorder.published.map((r) => [r.event.id, r.event]));
    for (const event of written) assert.deepEqual(byId.get(event.id), event, 'each event is published as it was written');
    const kept = await db.query<{ n: number }>('select count(*)::int as n from baton_outbox');
    assert.equal(kept.rows[0]?.n, 120, 'sent events stay in the outbox; only their pending entries go');
    for (const [aggregate, sequences] of sequencesByAggregate(recorder.published)) {
      assert.deepEqual(sequences, sequences.toSorted((a, b) => a - b), `${aggregate}'s events left in order`);
    }
  });

  void test('idle, it asks with one statement and opens no transaction; an event written without a wake is still published, and told once committed', async (t) => {
    const opened = await open(t);
    if (opened === undefined) return;
    const { db } = opened;
    await migrateMessaging(db);
    const counts = { transactions: 0, statements: 0 };
    const counted: Database = {
      ...db,
      query: (text, params, options) => {
        counts.statements += 1;
        return db.query(text, params, options);
      },
      transaction: (work, options) => {
        counts.transactions += 1;
        return db.transaction(work, options);
      },
    };
    const recorder = createRecorder();
    const told: Array<{ count: number; committed: number }> = [];
    const relay = startOutboxRelay({ db: counted, publisher: recorder, logger: createSilentLogger() }, {
      pollIntervalMs: 10,
      // What a reader told at this moment would see: the published events' pending entries gone.
      onPublished: (count) => void unsent(db).then((left) => told.push({ count, committed: left })),
    });
    addCleanup(t, () => relay.stop());
    await sleep(300);
    const idle = { ...counts };
    assert.ok(idle.transactions <= 2, `at most the first pass of each loop opens a transaction while nothing waits (${idle.transactions})`);
    assert.ok(idle.statements >= 5, `it kept looking, a statement a poll (${idle.statements} in 300 ms of 10 ms polls)`);
    // One event: written in a transaction each, several could be published by several passes.
    await writeEvents(db, { count: 1, aggregates: 1 });
    await waitUntil(async () => recorder.published.length === 1, 'the event written without a wake published');
    await waitUntil(async () => told.length > 0, 'onPublished called');
    assert.deepEqual(told, [{ count: 1, committed: 0 }], 'told once, after the commit that marked it sent');
    assert.ok(counts.transactions > idle.transactions, 'the probe that found them led to a pass');
  });

  void test('to a broker it has two batches out at once, never the same row or two events of one aggregate', async (t) => {
    const opened = await open(t);
    if (opened === undefined) return;
    const { db } = opened;
    await migrateMessaging(db);
    await writeEvents(db, { count: 200, aggregates: 50 });
    const recorder = createRecorder({ kind: 'nats', delayMs: 30 });
    const relay = startOutboxRelay({ db, publisher: recorder, logger: createSilentLogger() }, { batchSize: 20, pollIntervalMs: 10 });
    addCleanup(t, () => relay.stop());
    await waitUntil(async () => (await unsent(db)) === 0, 'every event sent');
    assert.equal(recorder.published.length, 200);
    assert.ok(recorder.maxInFlight > 20, `a second batch went out while the first was unanswered (at most ${recorder.maxInFlight} at once)`);
    assert.deepEqual(recorder.overlapping, []);
    assert.deepEqual(recorder.aggregatesTwiceInFlight, [], 'an aggregate\'s next event waits until its previous one is answered');
    for (const [aggregate, sequences] of sequencesByAggregate(recorder.published)) {
      assert.deepEqual(sequences, sequences.toSorted((a, b) => a - b), `${aggregate}'s events left in order`);
    }
  });

  void test('drain publishes what waits and returns, while the loop runs beside it', async (t) => {
    const opened = await open(t);
    if (opened === undefined) return;
    const { db } = opened;
    await migrateMessaging(db);
    const written = await writeEvents(db, { count: 60, aggregates: 60 });
    const recorder = createRecorder({ kind: 'nats', delayMs: 20 });
    const relay = startOutboxRelay({ db, publisher: recorder, logger: createSilentLogger() }, { batchSize: 20, pollIntervalMs: 1 });
    addCleanup(t, () => relay.stop());
    // A bound far above the work (three batches of 20 ms): it trips only if drain never returns.
    const hung = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('drain never returned')), 20_000).unref());
    const drained = await Promise.race([relay.drain(), hung]);
    assert.ok(drained <= written.length);
    assert.equal(await unsent(db), 0, 'nothing left once it returns');
    assert.equal(recorder.published.length, written.length);
  });

  void test('an event the broker refuses is sent again later, and its aggregate\'s later events wait for it', async (t) => {
    const opened = await open(t);
    if (opened === undefined) return;
    const { db } = opened;
    await migrateMessaging(db);
    const written = await writeEvents(db, { count: 30, aggregates: 3 });
    const refused = written[0]!; // shelf-0's first event
    const recorder = createRecorder({ failOnce: new Set([refused.id]) });
    const relay = startOutboxRelay({ db, publisher: recorder, logger: createSilentLogger() }, { batchSize: 10, pollIntervalMs: 10, maxBackoffMs: 20 });
    addCleanup(t, () => relay.stop());
    await waitUntil(async () => (await unsent(db)) === 0, 'every event sent');
    assert.equal(recorder.published.length, 30, 'the refused one too, once accepted');
    assert.deepEqual(sequencesByAggregate(recorder.published).get('shelf-0'), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    const { rows } = await db.query<{ attempts: number; last_error: string }>('select attempts, last_error from baton_outbox where event_id = $1', [refused.id]);
    assert.equal(rows[0]?.attempts, 1);
    assert.match(rows[0]?.last_error ?? '', /broker said no/);
  });
});

void test('a batch\'s transaction commits without waiting for the disk (a lost mark only sends again)', async (t) => {
  const url = await createTestDatabase(t);
  if (url === undefined) return;
  const db = openPostgres({ url, applicationName: 'baton-relay-commit' });
  addCleanup(t, () => db.close());
  await migrateMessaging(db);
  await writeEvents(db, { count: 10, aggregates: 10 });
  const seen: string[] = [];
  const recorder = createRecorder();
  const publisher: BrokerPublisher = {
    ...recorder,
    async publish(records, options) {
      const { rows } = await options.tx.query<{ synchronous_commit: string }>('show synchronous_commit');
      seen.push(rows[0]?.synchronous_commit ?? '?');
      return recorder.publish(records, options);
    },
  };
  const relay = startOutboxRelay({ db, publisher, logger: createSilentLogger() }, { batchSize: 25, pollIntervalMs: 10 });
  addCleanup(t, () => relay.stop());
  await waitUntil(async () => (await unsent(db)) === 0, 'every event sent');
  await relay.stop();
  assert.deepEqual([...new Set(seen)], ['off'], 'inside the batch\'s transaction');
  const outside = await db.query<{ synchronous_commit: string }>('show synchronous_commit');
  assert.equal(outside.rows[0]?.synchronous_commit, 'on', 'and only there: the pool\'s connections keep the server\'s setting');
});

void test('two relays on one PostgreSQL database never publish the same row at the same time', async (t) => {
  const url = await createTestDatabase(t);
  if (url === undefined) return;
  const first = openPostgres({ url, applicationName: 'baton-relay-a' });
  const second = openPostgres({ url, applicationName: 'baton-relay-b' });
  addCleanup(t, () => first.close());
  addCleanup(t, () => second.close());
  await migrateMessaging(first);
  await writeEvents(first, { count: 200, aggregates: 40 });
  // One recorder for both, slow enough that their passes overlap in time.
  const recorder = createRecorder({ delayMs: 15 });
  const relays = [first, second].map((db) => startOutboxRelay({ db, publisher: recorder, logger: createSilentLogger() }, { batchSize: 20, pollIntervalMs: 5 }));
  for (const relay of relays) addCleanup(t, () => relay.stop());
  await waitUntil(async () => (await unsent(first)) === 0, 'every event sent');
  assert.ok(recorder.maxInFlight > 20, `both relays were publishing at once (at most ${recorder.maxInFlight} rows in flight)`);
  assert.deepEqual(recorder.overlapping, [], 'no row was handed to two publishes at once');
  assert.equal(recorder.published.length, 200, 'and none was published twice');
  for (const [aggregate, sequences] of sequencesByAggregate(recorder.published)) {
    assert.deepEqual(sequences, sequences.toSorted((a, b) => a - b), `${aggregate}'s events left in order`);
  }
});
