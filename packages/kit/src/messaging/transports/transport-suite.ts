// The behaviour every broker transport must show, run against the real broker by nats.test.ts
// and rabbitmq.test.ts: the same publisher, consumer and database code above each.
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { openPostgres, type Database } from '../../db/index.ts';
import { addCleanup, createSilentLogger, createTestDatabase, type TestBroker, itemAdded, writeEvents } from '../../testing/index.ts';
import { createEventConsumer, on } from '../consumer.ts';
import type { EventConsumer } from '../event-consumer.ts';
import { listDeadLetters, replayDeadLetter } from '../dead-letters.ts';
import { migrateMessaging } from '../outbox.ts';
import { startOutboxRelay } from '../relay.ts';
import type { BrokerPublisher, EventSubscriber } from '../transport.ts';

export interface TransportUnderTest {
  name: string;
  broker(t: TestContext): Promise<TestBroker | undefined>;
  publisher(broker: TestBroker): Promise<BrokerPublisher>;
  subscriber(broker: TestBroker, options: { maxAttempts: number }): EventSubscriber;
  /** The dead letters the broker holds for the subscription: event id and error header. */
  deadLetters(broker: TestBroker): Promise<Array<{ eventId: string; error: string }>>;
}

// A bound on waiting, far above what the work takes: it fails only if something never happens.
/** Waits for `check`, a bound far above what the work takes: it fails only if something never happens. */
export async function waitUntil(check: () => Promise<boolean>, what: string, tries = 2_400): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (await check()) return;
    await sleep(25);
  }
  assert.fail(`gave up waiting: ${what}`);
}

/** A fresh database of the test's own with the messaging tables; undefined when the test was skipped. */
export async function openDb(t: TestContext, applicationName = 'baton-transport-test'): Promise<Database | undefined> {
  const url = await createTestDatabase(t);
  if (url === undefined) return undefined;
  const db = openPostgres({ url, applicationName });
  addCleanup(t, () => db.close());
  await migrateMessaging(db);
  return db;
}

function shelfConsumer(db: Database, { failFor = new Set<string>(), maxAttempts = 3, slowMs = 0 } = {}): EventConsumer {
  return createEventConsumer({
    db, subscription: 'shelf-keeper', logger: createSilentLogger(), maxAttempts, retryBaseMs: 50, retryMaxMs: 100,
    handlers: [on(itemAdded, async (event, { tx, signal }) => {
      if (slowMs > 0) await sleep(slowMs, undefined, { signal });
      await tx.query('insert into shelf (item, n, event_id) values ($1, $2, $3)', [event.data.item, event.data.n, event.id]);
      if (failFor.has(event.data.item)) throw new Error(`no room for ${event.data.item}`);
    })],
  });
}

async function shelfTable(db: Database): Promise<void> {
  await db.exec('create table shelf (seq bigserial, item text not null, n integer not null, event_id text unique not null)');
}

export function transportSuite(transport: TransportUnderTest): void {
  void describe(`events over ${transport.name}`, () => {
    void test('every event arrives once, in order per aggregate; a republished copy changes nothing', async (t) => {
      const broker = await transport.broker(t);
      if (broker === undefined) return;
      // One database plays both sides (its outbox publishes, its inbox consumes).
      const source = await openDb(t);
      if (source === undefined) return;
      const sink = source;
      await shelfTable(sink);
      const written = await writeEvents(source, { count: 150, aggregates: 10 });

      const publisher = await transport.publisher(broker);
      addCleanup(t, () => publisher.close());
      const subscriber = transport.subscriber(broker, { maxAttempts: 3 });
      const consumer = shelfConsumer(sink);
      await subscriber.start((event, attempt) => consumer.deliver(event, attempt));
      addCleanup(t, () => subscriber.stop());
      await waitUntil(async () => { try { await subscriber.check(AbortSignal.timeout(1_000)); return true; } catch { return false; } }, 'subscribed');

      const relay = startOutboxRelay({ db: source, publisher, logger: createSilentLogger() }, { batchSize: 40, pollIntervalMs: 20 });
      addCleanup(t, () => relay.stop());
      const count = async () => (await sink.query<{ n: number }>('select count(*)::int as n from shelf')).rows[0]?.n ?? 0;
      await waitUntil(async () => (await count()) === 150, 'all 150 applied');

      // As if the relay died after the broker's ack and before marking: everything goes again.
      await relay.stop();
      await source.query('insert into baton_outbox_pending (position, aggregate_id) select position, aggregate_id from baton_outbox on conflict do nothing');
      const again = startOutboxRelay({ db: source, publisher, logger: createSilentLogger() }, { batchSize: 40, pollIntervalMs: 20 });
      addCleanup(t, () => again.stop());
      await waitUntil(async () => (await source.query<{ n: number }>('select count(*)::int as n from baton_outbox_pending')).rows[0]?.n === 0, 'republished');
      await sleep(300);
      assert.equal(await count(), 150, 'the republished copies were not applied again');

      const { rows } = await sink.query<{ item: string; n: number }>('select item, n from shelf order by seq');
      for (let a = 0; a < 10; a++) {
        const ns = rows.filter((row) => row.item === `shelf-${a}`).map((row) => row.n);
        assert.deepEqual(ns, written.filter((e) => e.subject === `shelf-${a}`).map((e) => (e.data as { n: number }).n), `shelf-${a} applied in order`);
      }
    });

    void test('a poison event lands in the dead-letter queue after N attempts with its error; a replay after the fix applies it once', async (t) => {
      const broker = await transport.broker(t);
      if (broker === undefined) return;
      // One database plays both sides (its outbox publishes, its inbox consumes).
      const source = await openDb(t);
      if (source === undefined) return;
      const sink = source;
      await shelfTable(sink);
      const written = await writeEvents(source, { count: 6, aggregates: 6 });
      const poison = written[2]!;
      const failFor = new Set([poison.subject]);
      const publisher = await transport.publisher(broker);
      addCleanup(t, () => publisher.close());
      const subscriber = transport.subscriber(broker, { maxAttempts: 3 });
      const consumer = shelfConsumer(sink, { failFor, maxAttempts: 3 });
      const attempts: number[] = [];
      await subscriber.start(async (event, attempt) => {
        if (event.id === poison.id) attempts.push(attempt);
        return consumer.deliver(event, attempt);
      });
      addCleanup(t, () => subscriber.stop());
      const relay = startOutboxRelay({ db: source, publisher, logger: createSilentLogger() }, { pollIntervalMs: 20 });
      addCleanup(t, () => relay.stop());

      await waitUntil(async () => (await listDeadLetters(sink, 'shelf-keeper')).length === 1, 'the poison event is dead-lettered');
      const [letter] = await listDeadLetters(sink, 'shelf-keeper');
      assert.equal(letter?.eventId, poison.id);
      assert.equal(letter?.attempts, 3);
      assert.match(letter?.error ?? '', /no room for shelf-2/);
      assert.deepEqual(attempts, [1, 2, 3], 'delivered three times, counted by the broker');
      await waitUntil(async () => (await transport.deadLetters(broker)).length === 1, 'the broker holds it in its dead-letter queue');
      const [held] = await transport.deadLetters(broker);
      assert.equal(held?.eventId, poison.id);
      assert.match(held?.error ?? '', /no room for shelf-2/);
      const applied = async () => (await sink.query<{ item: string }>('select item from shelf order by item')).rows.map((r) => r.item);
      assert.deepEqual(await applied(), ['shelf-0', 'shelf-1', 'shelf-3', 'shelf-4', 'shelf-5'], 'the others went on');

      failFor.clear();
      assert.equal((await replayDeadLetter(sink, consumer, letter!.id)).result, 'handled');
      assert.equal((await replayDeadLetter(sink, consumer, letter!.id)).result, 'duplicate');
      await sleep(300);
      assert.deepEqual(await applied(), ['shelf-0', 'shelf-1', 'shelf-2', 'shelf-3', 'shelf-4', 'shelf-5'], 'applied once');
      assert.equal(attempts.length, 3, 'the broker did not deliver it again');
    });

    void test('a consumer that stops hands back what it holds: nothing is dead-lettered, the next one gets the rest', async (t) => {
      const broker = await transport.broker(t);
      if (broker === undefined) return;
      // One database plays both sides (its outbox publishes, its inbox consumes).
      const source = await openDb(t);
      if (source === undefined) return;
      const sink = source;
      await shelfTable(sink);
      await writeEvents(source, { count: 40, aggregates: 40 });
      const publisher = await transport.publisher(broker);
      addCleanup(t, () => publisher.close());
      const relay = startOutboxRelay({ db: source, publisher, logger: createSilentLogger() }, { pollIntervalMs: 20 });
      addCleanup(t, () => relay.stop());

      // Slow and failing once on its first attempts: a stop finds deliveries in every state.
      const first = transport.subscriber(broker, { maxAttempts: 1 });
      const firstConsumer = shelfConsumer(sink, { slowMs: 100, maxAttempts: 1 });
      await first.start((event, attempt) => firstConsumer.deliver(event, attempt));
      const count = async () => (await sink.query<{ n: number }>('select count(*)::int as n from shelf')).rows[0]?.n ?? 0;
      await waitUntil(async () => (await count()) >= 3, 'the first consumer applied some');
      firstConsumer.shutdown();
      await first.stop();
      const afterFirst = await count();
      assert.ok(afterFirst < 40, `the first consumer was stopped part-way (${afterFirst} of 40)`);

      const second = transport.subscriber(broker, { maxAttempts: 1 });
      const secondConsumer = shelfConsumer(sink, { maxAttempts: 1 });
      await second.start((event, attempt) => secondConsumer.deliver(event, attempt));
      addCleanup(t, () => second.stop());
      await waitUntil(async () => (await count()) === 40, 'the second consumer applied the rest');
      assert.deepEqual(await listDeadLetters(sink, 'shelf-keeper'), [], 'maxAttempts is 1, and still nothing was dead-lettered by the stop');
    });
  });
}
