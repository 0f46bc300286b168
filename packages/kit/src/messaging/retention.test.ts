import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { databaseConfigFields, loadConfig, serviceConfigFields, z } from '../config/index.ts';
import { openPostgres, type Database } from '../db/index.ts';
import type { Logger } from '../telemetry/index.ts';
import { startService, type RunningService, type ServiceDefinition } from '../service/index.ts';
import {
  addCleanup, createCapturedLogger, createSilentLogger, createTestDatabase, fixtureMigrationsDir as migrationsDir, itemAdded, itemRemoved,
  metricValue, parseMetrics, writeEvents, type CleanupScope,
} from '../testing/index.ts';
import { messagingConfigFields } from './config.ts';
import { createEventConsumer, on } from './consumer.ts';
import { recordDeadLetter } from './dead-letters.ts';
import { createPrunedCounter } from './metrics.ts';
import { createOutbox } from './outbox.ts';
import { pruneInbox, pruneOutbox, pruneReplayedDeadLetters, startPruner } from './prune.ts';
import { startOutboxRelay } from './relay.ts';
import type { EventPublisher } from './transport.ts';
import { startConsuming, startPublishing } from './setup.ts';
import { createFeedPublisher } from './transports/feed-publisher.ts';
import { openDb, waitUntil } from './transports/transport-suite.ts';

// Retention, on real databases: published outbox events, inbox entries and replayed dead letters
// go once past their retention; what a feed reader behind it gets; that idempotency survives.
// Rows are made old by moving their timestamps back, never by waiting.

const hourMs = 3_600_000;


const count = async (db: Database, table: string) => (await db.query<{ n: number }>(`select count(*)::int as n from ${table}`)).rows[0]?.n ?? -1;

void test('published events past the retention go in bounded batches; unpublished ones stay whatever their age; the feed numbers on above them', async (t) => {
  const db = await openDb(t, 'baton-retention-test');
  if (db === undefined) return;
  const relay = startOutboxRelay({ db, publisher: createFeedPublisher(), logger: createSilentLogger() }, { pollIntervalMs: 3_600_000 });
  addCleanup(t, () => relay.stop());
  await writeEvents(db, { count: 5, aggregates: 5 });
  // The relay's own first pass may publish some beside the drain: what is left pending is what counts.
  await relay.drain();
  assert.equal(await count(db, 'baton_outbox_pending'), 0);
  await writeEvents(db, { count: 2, aggregates: 2 });
  await db.query(`update baton_outbox set created_at = now() - interval '2 hours'`);

  const registry = new Registry();
  const pruned = createPrunedCounter(registry);
  const batches: number[] = [];
  const pruner = startPruner({
    name: 'outbox', steps: [{ table: 'baton_outbox', prune: (batch) => pruneOutbox(db, batch) }],
    retentionMs: hourMs, intervalMs: 3_600_000, batchSize: 2, logger: createSilentLogger(),
    onPruned: (table, n) => { batches.push(n); pruned.inc({ table }, n); },
  });
  addCleanup(t, () => pruner.stop());
  await waitUntil(async () => await count(db, 'baton_outbox') === 2, 'the published events pruned');
  await pruner.stop();

  assert.deepEqual(batches, [2, 2, 1], 'batches of at most batchSize');
  assert.equal(metricValue(parseMetrics(await registry.metrics()), 'baton_messaging_pruned_total', { table: 'baton_outbox' }), 5);
  assert.equal(await count(db, 'baton_outbox_pending'), 2, 'the two unpublished events stay, old as they are');
  const { rows: [mark] } = await db.query<{ through: string }>('select through_feed_position as through from baton_outbox_pruned');
  assert.equal(Number(mark?.through), 5);

  assert.equal(await relay.drain(), 2);
  const { rows } = await db.query<{ p: string }>('select feed_position as p from baton_outbox order by feed_position');
  assert.deepEqual(rows.map((r) => Number(r.p)), [6, 7], 'numbered after the pruned ones, not from 1 again');
});

void test('the feed is pruned as a prefix: an old event published behind a newer one waits for it, so the mark skips nothing still held', async (t) => {
  const db = await openDb(t, 'baton-retention-test');
  if (db === undefined) return;
  const relay = startOutboxRelay({ db, publisher: createFeedPublisher(), logger: createSilentLogger() }, { pollIntervalMs: 3_600_000 });
  addCleanup(t, () => relay.stop());
  await writeEvents(db, { count: 4, aggregates: 4 });
  await relay.drain();
  await relay.stop();
  assert.equal(await count(db, 'baton_outbox_pending'), 0);
  // Positions 1, 2 and 4 are old; 3 is inside the retention (as an event written long ago and
  // published late, behind newer ones, would be seen from the other side).
  await db.query(`update baton_outbox set created_at = now() - interval '2 hours' where feed_position <> 3`);

  const before = new Date(Date.now() - hourMs);
  const signal = new AbortController().signal;
  assert.equal(await pruneOutbox(db, { before, batchSize: 100, signal }), 2);
  assert.equal(await pruneOutbox(db, { before, batchSize: 100, signal }), 0, 'position 4 waits behind 3');
  const { rows } = await db.query<{ p: string }>('select feed_position as p from baton_outbox order by feed_position');
  assert.deepEqual(rows.map((r) => Number(r.p)), [3, 4]);
  const { rows: [mark] } = await db.query<{ through: string }>('select through_feed_position as through from baton_outbox_pruned');
  assert.equal(Number(mark?.through), 2, 'every position up to the mark is gone, every one above it is held');

  await db.query(`update baton_outbox set created_at = now() - interval '2 hours'`);
  assert.equal(await pruneOutbox(db, { before, batchSize: 100, signal }), 2);
});

void test('events published to a broker (no feed position) go by age; one not yet published stays', async (t) => {
  const db = await openDb(t, 'baton-retention-test');
  if (db === undefined) return;
  // Stands in for a broker that accepted every event: what is pruned is the outbox's business.
  const accepted: EventPublisher = { kind: 'nats', publish: async (records) => records.map(() => ({ ok: true as const })), check: async () => {}, close: async () => {} };
  const relay = startOutboxRelay({ db, publisher: accepted, logger: createSilentLogger() }, { pollIntervalMs: 3_600_000 });
  addCleanup(t, () => relay.stop());
  await writeEvents(db, { count: 3, aggregates: 3 });
  await relay.drain();
  // Stopped, so nothing publishes the next one and no pass is left in flight.
  await relay.stop();
  assert.equal(await count(db, 'baton_outbox_pending'), 0);
  await writeEvents(db, { count: 1, aggregates: 1 });
  await db.query(`update baton_outbox set created_at = now() - interval '2 hours' where position <> (select min(position) from baton_outbox)`);

  const signal = new AbortController().signal;
  assert.equal(await pruneOutbox(db, { before: new Date(Date.now() - hourMs), batchSize: 100, signal }), 2);
  assert.equal(await count(db, 'baton_outbox'), 2, 'the recent published one and the old unpublished one');
  assert.equal(await count(db, 'baton_outbox_pending'), 1);
});

void test('inbox entries and replayed dead letters past the retention go; a redelivered event is still a duplicate once its entry went', async (t) => {
  const db = await openDb(t, 'baton-retention-test');
  if (db === undefined) return;
  const handled: string[] = [];
  const consumer = createEventConsumer({
    db, subscription: 'keeper', logger: createSilentLogger(),
    handlers: [on(itemAdded, async (event) => { handled.push(event.id); })],
  });
  const events = await writeEvents(db, { count: 3, aggregates: 3 });
  for (const event of events) assert.deepEqual(await consumer.deliver(event, 1), { kind: 'done' });
  const [first, second] = events;
  assert.ok(first && second);
  await recordDeadLetter(db, { subscription: 'keeper', event: first, error: 'boom', attempts: 5 });
  await recordDeadLetter(db, { subscription: 'other', event: second, error: 'boom', attempts: 5 });
  await db.query(`update baton_dead_letters set replayed_at = now() - interval '2 hours' where subscription = 'keeper'`);
  await db.query(`update baton_inbox set handled_at = now() - interval '2 hours'`);

  const pruner = startPruner({
    name: 'inbox',
    steps: [{ table: 'baton_inbox', prune: (batch) => pruneInbox(db, batch) }, { table: 'baton_dead_letters', prune: (batch) => pruneReplayedDeadLetters(db, batch) }],
    retentionMs: hourMs, intervalMs: 3_600_000, logger: createSilentLogger(), onPruned: () => {},
  });
  addCleanup(t, () => pruner.stop());
  await waitUntil(async () => await count(db, 'baton_inbox') === 0 && await count(db, 'baton_dead_letters') === 1, 'the inbox pruned');
  await pruner.stop();
  const { rows } = await db.query<{ subscription: string }>('select subscription from baton_dead_letters');
  assert.deepEqual(rows.map((r) => r.subscription), ['other'], 'a dead letter not replayed stays');

  // A broker redelivering (or a feed re-reading) an event after its inbox entry went: the
  // aggregate's last applied sequence, which is kept, still says it was applied.
  for (const event of events) assert.deepEqual(await consumer.deliver(event, 2), { kind: 'done' });
  assert.equal(handled.length, 3, 'no event was handled twice');
  consumer.shutdown();
});

const configSchema = z.object({ ...serviceConfigFields({ name: 'shelf', port: 0 }), ...databaseConfigFields(), ...messagingConfigFields() });
type Config = z.output<typeof configSchema>;

async function startShelfService(t: CleanupScope, name: string, env: Record<string, string>, setup: ServiceDefinition<Config>['setup'], logger: Logger = createSilentLogger()): Promise<RunningService> {
  const config = loadConfig(configSchema, { HOST: '127.0.0.1', PORT: '0', MESSAGING_POLL_INTERVAL_MS: '20', ...env });
  const service = await startService({ name, migrationsDir, setup }, config, { logger });
  addCleanup(t, () => service.shutdown('test over'));
  return service;
}

void test('a feed reader behind the retention gets 410 problem+json; the kit\'s subscriber logs the loss and goes on from the oldest event kept; other types come without data', async (t) => {
  const publisherDatabase = await createTestDatabase(t);
  const consumerDatabase = await createTestDatabase(t);
  if (publisherDatabase === undefined || consumerDatabase === undefined) return;
  const publisher = await startShelfService(t, 'shelf', { DATABASE_URL: publisherDatabase, OUTBOX_RETENTION_HOURS: '1', MESSAGING_PRUNE_INTERVAL_MS: '1000' }, async (app, context) => {
    await startPublishing(app, context, { domain: 'shelf', readers: 'any-service' });
  });
  const db = publisher.db;
  await writeEvents(db, { count: 3, aggregates: 3 });
  await waitUntil(async () => (await db.query('select 1 from baton_outbox where feed_position is null')).rowCount === 0, 'published');
  await db.query(`update baton_outbox set created_at = now() - interval '2 hours'`);
  await waitUntil(async () => await count(db, 'baton_outbox') === 0, 'pruned by the service\'s own pruner');

  const feed = (query: string) => fetch(`${publisher.url}/events/v1/feed?${query}`);
  const gone = await feed('after=1');
  assert.equal(gone.status, 410);
  assert.match(gone.headers.get('content-type') ?? '', /^application\/problem\+json/);
  const problem = await gone.json() as { code: string; reason: string; prunedThroughPosition: number; errors: Array<{ field: string }> };
  assert.equal(problem.code, 'out_of_range');
  assert.equal(problem.reason, 'feed_position_pruned');
  assert.equal(problem.prunedThroughPosition, 3);
  assert.deepEqual(problem.errors.map((e) => e.field), ['query.after']);
  assert.equal((await feed('after=3')).status, 200, 'from the oldest kept on, the feed answers');
  const metrics = parseMetrics(await (await fetch(`${publisher.adminUrl}/metrics`)).text());
  assert.equal(metricValue(metrics, 'baton_messaging_pruned_total', { table: 'baton_outbox' }), 3);

  const outbox = createOutbox({ domain: 'shelf' });
  await db.transaction(async (tx) => {
    await outbox.add(tx, itemAdded, { aggregateId: 'mug', data: { item: 'mug', n: 1 } });
    await outbox.add(tx, itemRemoved, { aggregateId: 'mug', data: { item: 'mug' } });
  });
  await waitUntil(async () => (await db.query('select 1 from baton_outbox where feed_position is null')).rowCount === 0, 'published');
  const page = await (await feed('after=3&types=item.added')).json() as { events: Array<{ position: number; event: { type: string; subjectseq: number; data: unknown } }> };
  assert.deepEqual(page.events.map(({ position, event }) => [position, event.type, event.subjectseq, event.data]), [
    [4, 'item.added', 1, { item: 'mug', n: 1 }],
    [5, 'item.removed', 2, null],
  ], 'the type asked for whole, the other as its envelope only');
  const bad = await feed('types=../x');
  assert.equal(bad.status, 400);
  assert.deepEqual((await bad.json() as { errors: Array<{ field: string }> }).errors.map((e) => e.field), ['query.types.0']);

  // A new subscription starts at 0, below what was pruned: it is told so, says so, and goes on.
  const handled: string[] = [];
  const { logger, lines } = createCapturedLogger({ service: 'keeper' });
  await startShelfService(t, 'keeper', { DATABASE_URL: consumerDatabase }, async (app, context) => {
    await startConsuming(app, context, {
      subscription: 'shelf-keeper', feedUrls: { shelf: [publisher.url] },
      handlers: [on(itemAdded, async (event) => { handled.push(event.data.item); })],
    });
  }, logger);
  const consumerDb = openPostgres({ url: consumerDatabase, applicationName: 'baton-retention-test' });
  addCleanup(t, () => consumerDb.close());
  await waitUntil(async () => Number((await consumerDb.query<{ p: string }>('select position as p from baton_feed_cursors')).rows[0]?.p ?? 0) === 5, 'the consumer caught up');
  assert.deepEqual(handled, ['mug'], 'the event kept was handled; the pruned ones are lost, and said to be');
  const lost = lines.find((line) => line.level === 'error' && String(line.msg).includes('pruned events this subscription had not read'));
  assert.ok(lost, 'the loss is logged as an error');
  assert.equal(lost.pruned_through, 3);
});

void test('stopping a pruner cancels the batch in flight and ends its loop', async () => {
  let started!: () => void;
  const inFlight = new Promise<void>((resolve) => { started = resolve; });
  let cancelled = false;
  const pruner = startPruner({
    name: 'outbox', retentionMs: hourMs, intervalMs: 3_600_000, logger: createSilentLogger(), onPruned: () => {},
    // A batch that would go on for ever: only its signal ends it, as a query's does.
    steps: [{ table: 'baton_outbox', prune: ({ signal }) => new Promise<number>((_resolve, reject) => {
      started();
      signal.addEventListener('abort', () => { cancelled = true; reject(signal.reason); });
    }) }],
  });
  await inFlight;
  await pruner.stop();
  assert.equal(cancelled, true);
});
