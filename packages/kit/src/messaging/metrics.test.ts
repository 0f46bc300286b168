import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { Histogram, Registry } from 'prom-client';
import { databaseConfigFields, loadConfig, serviceConfigFields, z } from '../config/index.ts';
import { openPostgres, type Database } from '../db/index.ts';
import { startService, type RunningService, type ServiceDefinition } from '../service/index.ts';
import { addCleanup, createSilentLogger, createTestDatabase, metricValue, parseMetrics, type CleanupScope, itemAdded, writeEvents, fixtureMigrationsDir as migrationsDir } from '../testing/index.ts';
import { messagingConfigFields } from './config.ts';
import { on } from './consumer.ts';
import { recordDeadLetter } from './dead-letters.ts';
import { createConsumerMetrics, createOutboxMetrics } from './metrics.ts';
import { createOutbox, migrateMessaging } from './outbox.ts';
import { startOutboxRelay } from './relay.ts';
import { startConsuming, startPublishing } from './setup.ts';
import { createFeedPublisher } from './transports/feed-publisher.ts';

// The messaging metrics as Prometheus reads them, from real databases and a real transport (the
// HTTP feed, which needs no broker): the outbox's backlog and its age, and a consumer's
// deliveries by outcome, its redeliveries and its dead letters.

const configSchema = z.object({ ...serviceConfigFields({ name: 'shelf', port: 0 }), ...databaseConfigFields(), ...messagingConfigFields() });
type Config = z.output<typeof configSchema>;
const scrapeText = async (registry: Registry) => parseMetrics(await registry.metrics());

/** A fresh database of the test's own with the messaging tables; undefined when the test was skipped. */
async function openDb(t: TestContext): Promise<Database | undefined> {
  const url = await createTestDatabase(t);
  if (url === undefined) return undefined;
  const db = openPostgres({ url, applicationName: 'baton-metrics-test' });
  addCleanup(t, () => db.close());
  await migrateMessaging(db);
  return db;
}

void test('the outbox gauges: events waiting and the age of the oldest, read from the database; published counted', async (t) => {
  const db = await openDb(t);
  if (db === undefined) return;
  const registry = new Registry();
  const published = createOutboxMetrics(registry, db);

  let metrics = await scrapeText(registry);
  assert.equal(metricValue(metrics, 'baton_outbox_pending_events'), 0);
  assert.equal(metricValue(metrics, 'baton_outbox_oldest_pending_age_seconds'), 0, 'none waits: 0, not the age of nothing');

  await writeEvents(db, { count: 3, aggregates: 2 });
  // As if the relay had been stuck for a minute and a half behind the oldest of them.
  await db.query(`update baton_outbox set created_at = now() - interval '90 seconds' where position = (select min(position) from baton_outbox)`);
  metrics = await scrapeText(registry);
  assert.equal(metricValue(metrics, 'baton_outbox_pending_events'), 3);
  const age = metricValue(metrics, 'baton_outbox_oldest_pending_age_seconds');
  assert.ok(age >= 90 && age < 3_600, `the oldest waits for 90 s and a little: ${age}`);

  const relay = startOutboxRelay({ db, publisher: createFeedPublisher(), logger: createSilentLogger() }, { onPublished: (count) => published.inc(count) });
  addCleanup(t, () => relay.stop());
  await relay.drain();
  metrics = await scrapeText(registry);
  assert.equal(metricValue(metrics, 'baton_outbox_pending_events'), 0);
  assert.equal(metricValue(metrics, 'baton_outbox_oldest_pending_age_seconds'), 0);
  assert.equal(metricValue(metrics, 'baton_outbox_published_total'), 3);
});

void test('a database that is down or hangs does not fail or stall the scrape: its gauges keep their last values', async (t) => {
  const db = await openDb(t);
  if (db === undefined) return;
  let state: 'up' | 'down' | 'hanging' = 'up';
  const flaky = {
    ...db,
    query: (text: string, params?: readonly unknown[], options?: { signal?: AbortSignal }) => {
      if (state === 'up') return db.query(text, params, options);
      if (state === 'down') return Promise.reject(new Error('the database is unavailable'));
      return new Promise((_resolve, reject) => options?.signal?.addEventListener('abort', () => reject(options.signal?.reason)));
    },
  } as Database;
  const registry = new Registry();
  createOutboxMetrics(registry, flaky);
  createConsumerMetrics(registry, flaky);
  await writeEvents(db, { count: 2, aggregates: 1 });
  assert.equal(metricValue(await scrapeText(registry), 'baton_outbox_pending_events'), 2);

  state = 'down';
  await writeEvents(db, { count: 1, aggregates: 1 });
  assert.equal(metricValue(await scrapeText(registry), 'baton_outbox_pending_events'), 2, 'the scrape answers, with the last value read');

  state = 'hanging';
  const startedAt = performance.now();
  assert.equal(metricValue(await scrapeText(registry), 'baton_outbox_pending_events'), 2);
  assert.ok(performance.now() - startedAt < 5_000, 'a read that never answers is given up at its deadline, not waited for');

  state = 'up';
  assert.equal(metricValue(await scrapeText(registry), 'baton_outbox_pending_events'), 3, 'read again once the database answers');
});

/** `env` names the service's own database (DATABASE_URL). */
async function startShelfService(t: CleanupScope, name: string, env: Record<string, string>, setup: ServiceDefinition<Config>['setup']): Promise<RunningService> {
  const config = loadConfig(configSchema, { HOST: '127.0.0.1', PORT: '0', MESSAGING_POLL_INTERVAL_MS: '20', ...env });
  const service = await startService({ name, migrationsDir, setup }, config, { logger: createSilentLogger() });
  addCleanup(t, () => service.shutdown('test over'));
  return service;
}

void test('a consumer\'s deliveries by outcome, its redeliveries and its dead letters, on the service\'s /metrics', async (t) => {
  const publisherDatabase = await createTestDatabase(t);
  const consumerDatabase = await createTestDatabase(t);
  if (publisherDatabase === undefined || consumerDatabase === undefined) return;
  const publisher = await startShelfService(t, 'shelf', { DATABASE_URL: publisherDatabase }, async (app, context) => {
    await startPublishing(app, context, { domain: 'shelf', readers: 'any-service' });
  });
  const consumer = await startShelfService(t, 'keeper', { DATABASE_URL: consumerDatabase, MESSAGING_MAX_ATTEMPTS: '2', MESSAGING_RETRY_BASE_MS: '10', MESSAGING_RETRY_MAX_MS: '20' }, async (app, context) => {
    await startConsuming(app, context, {
      subscription: 'shelf-keeper',
      feedUrls: { shelf: [publisher.url] },
      handlers: [on(itemAdded, async (event, { attempt }) => {
        if (event.data.item === 'poison') throw new Error('this shelf cannot hold poison');
        if (event.data.item === 'flaky' && attempt === 1) throw new Error('the shelf wobbled');
      })],
    });
  });

  // Three aggregates, so none waits behind another: one applies at once, one on its second
  // delivery, and one fails both of its two and becomes a dead letter.
  const outbox = createOutbox({ domain: 'shelf' });
  for (const item of ['fine', 'flaky', 'poison']) {
    await publisher.db.transaction((tx) => outbox.add(tx, itemAdded, { aggregateId: item, data: { item, n: 1 } }));
  }

  const scrape = async () => parseMetrics(await (await fetch(`${consumer.adminUrl}/metrics`)).text());
  const series = { subscription: 'shelf-keeper', type: 'item.added' };
  const deliveries = (metrics: Awaited<ReturnType<typeof scrape>>, outcome: string) => metricValue(metrics, 'baton_consumer_deliveries_total', { ...series, outcome });
  let metrics = await scrape();
  // A bound far above what the work takes: it fails only if the events never arrive.
  for (let i = 0; i < 1_000 && deliveries(metrics, 'done') + deliveries(metrics, 'dead') < 3; i++) {
    await sleep(20);
    metrics = await scrape();
  }
  assert.equal(deliveries(metrics, 'done'), 2, 'fine and flaky were applied');
  assert.equal(deliveries(metrics, 'retry'), 2, 'flaky and poison failed once each');
  assert.equal(deliveries(metrics, 'dead'), 1, 'poison failed its last attempt');
  assert.equal(metricValue(metrics, 'baton_consumer_redeliveries_total', series), 2, 'the second deliveries of flaky and poison');
  assert.equal(metricValue(metrics, 'baton_consumer_dead_letters', { subscription: 'shelf-keeper' }), 1);

  const lag = consumer.metrics.registry.getSingleMetric('baton_consumer_lag_seconds');
  assert.ok(lag instanceof Histogram);
  const lagCount = (await lag.get()).values.find((v) => v.metricName === 'baton_consumer_lag_seconds_count' && v.labels.subscription === 'shelf-keeper');
  assert.equal(lagCount?.value, 2, 'the lag of each applied event was observed');

  const published = parseMetrics(await (await fetch(`${publisher.adminUrl}/metrics`)).text());
  assert.equal(metricValue(published, 'baton_outbox_published_total'), 3);
  assert.equal(metricValue(published, 'baton_outbox_pending_events'), 0);
});

void test('the dead-letter gauge counts per subscription and forgets a replayed one', async (t) => {
  const db = await openDb(t);
  if (db === undefined) return;
  const registry = new Registry();
  createConsumerMetrics(registry, db);
  const [first, second] = await writeEvents(db, { count: 2, aggregates: 2 });
  assert.ok(first && second);
  for (const [subscription, event] of [['a', first], ['a', second], ['b', first]] as const) {
    await recordDeadLetter(db, { subscription, event, error: 'boom', attempts: 2 });
  }
  let metrics = await scrapeText(registry);
  assert.equal(metricValue(metrics, 'baton_consumer_dead_letters', { subscription: 'a' }), 2);
  assert.equal(metricValue(metrics, 'baton_consumer_dead_letters', { subscription: 'b' }), 1);

  await db.query(`update baton_dead_letters set replayed_at = now() where subscription = 'b'`);
  metrics = await scrapeText(registry);
  assert.equal(metricValue(metrics, 'baton_consumer_dead_letters', { subscription: 'a' }), 2);
  assert.equal(metricValue(metrics, 'baton_consumer_dead_letters', { subscription: 'b' }), 0, 'a replayed dead letter no longer waits');
});
