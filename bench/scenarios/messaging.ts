import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import pg from 'pg';
import { openMemoryPglite, openPostgres, type Database } from '../../packages/kit/src/db/index.ts';
import {
  createEventConsumer, createNatsPublisher, createNatsSubscriber, createOutbox, migrateMessaging, natsNames, on,
  startOutboxRelay, type CloudEvent,
} from '../../packages/kit/src/messaging/index.ts';
import { itemAdded, writeEvents } from '../../packages/kit/src/messaging/test-support.ts';
import { createSilentLogger } from '../../packages/kit/src/testing/index.ts';
import type { Row, Scenario } from '../harness/report.ts';
import { summarize } from '../harness/stats.ts';

const natsUrl = process.env.BENCH_NATS_URL || 'nats://127.0.0.1:4222';
const postgresUrl = process.env.BENCH_POSTGRES_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
const count = 3_000;
const logger = createSilentLogger('bench');

async function until(check: () => Promise<boolean> | boolean, limitMs = 120_000): Promise<void> {
  const giveUpAt = performance.now() + limitMs;
  while (!(await check())) {
    if (performance.now() > giveUpAt) throw new Error('the benchmark stalled');
    await sleep(5);
  }
}

async function freshDb(kind: 'pglite' | 'postgres', cleanups: Array<() => Promise<unknown>>): Promise<Database> {
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

async function withSink(db: Database): Promise<Database> {
  await db.exec('create table if not exists shelf (item text not null, n integer not null, event_id text primary key)');
  return db;
}

export const messaging: Scenario = {
  name: 'messaging',
  description: `Events on one NATS JetStream (${natsUrl}), ${count} events a run, each variant in the same process and run. ` +
    'Publish: the outbox relay (batches of 100, first event per aggregate, marked sent) vs a raw nats.js loop publishing the same CloudEvents ' +
    '100 at a time with Nats-Msg-Id. Consume: our consumer (inbox row, per-aggregate sequence, handler insert, one transaction each) vs a raw ' +
    'consume() loop doing the same insert in a transaction and acking; both on in-memory PGlite. Latency: commit in the outbox to commit in the ' +
    'consumer, at half the capacity measured above (open loop, 5 s). End to end: outbox to handled, PGlite vs PostgreSQL.',
  target: 'relay ≥ 50% of the raw publish loop; consumer ≥ 80% of the raw consume() loop',
  async run() {
    const cleanups: Array<() => Promise<unknown>> = [];
    const namespace = `bench_${randomBytes(4).toString('hex')}`;
    const names = natsNames(namespace);
    const nc = await connect({ servers: natsUrl });
    const jsm = await jetstreamManager(nc);
    const js = jetstream(nc);
    const rows: Row[] = [];
    try {
      // Publish.
      const source = await freshDb('pglite', cleanups);
      const events = await writeEvents(source, { count, aggregates: 500 });
      const publisher = createNatsPublisher({ url: natsUrl, namespace, domain: 'shelf', logger });
      cleanups.push(() => publisher.close());
      // The stream exists before either variant is timed (the publisher creates it on first use).
      await publisher.publish([], { signal: AbortSignal.timeout(10_000), tx: source });
      await jsm.streams.add({ name: `${namespace}_raw`, subjects: [`${namespace}.raw.>`] });
      let t0 = performance.now();
      for (let i = 0; i < events.length; i += 100) {
        await Promise.all(events.slice(i, i + 100).map((e) => js.publish(`${namespace}.raw.${e.type}`, JSON.stringify(e), { msgID: e.id })));
      }
      const rawPublishRate = count / ((performance.now() - t0) / 1_000);
      const relay = startOutboxRelay({ db: source, publisher, logger }, { batchSize: 100, pollIntervalMs: 1 });
      t0 = performance.now();
      await until(async () => (await source.query<{ n: number }>('select count(*)::int as n from baton_outbox where sent_at is null')).rows[0]?.n === 0);
      const relayRate = count / ((performance.now() - t0) / 1_000);
      await relay.stop();
      rows.push(
        { variant: 'raw js.publish loop', metric: 'publish', value: rawPublishRate, unit: 'events/s' },
        { variant: 'outbox relay', metric: 'publish', value: relayRate, unit: 'events/s', note: `${(relayRate / rawPublishRate * 100).toFixed(0)}% of raw` },
      );

      // Consume: the relay's stream now holds the events once each.
      const rawSink = await withSink(await freshDb('pglite', cleanups));
      await jsm.consumers.add(names.stream('shelf'), { durable_name: 'raw', ack_policy: AckPolicy.Explicit, deliver_policy: DeliverPolicy.All });
      const rawMessages = await (await js.consumers.get(names.stream('shelf'), 'raw')).consume({ max_messages: 100 });
      let rawDone = 0;
      t0 = performance.now();
      for await (const msg of rawMessages) {
        const event = msg.json<CloudEvent<{ item: string; n: number }>>();
        await rawSink.transaction((tx) => tx.query('insert into shelf (item, n, event_id) values ($1, $2, $3)', [event.data.item, event.data.n, event.id]));
        msg.ack();
        if (++rawDone === count) break;
      }
      const rawConsumeRate = count / ((performance.now() - t0) / 1_000);
      await rawMessages.close();

      const ourSink = await withSink(await freshDb('pglite', cleanups));
      let handled = 0;
      const consumer = createEventConsumer({
        db: ourSink, subscription: 'bench', logger,
        handlers: [on(itemAdded, async (event, { tx }) => {
          await tx.query('insert into shelf (item, n, event_id) values ($1, $2, $3)', [event.data.item, event.data.n, event.id]);
        })],
      });
      const subscriber = createNatsSubscriber({ url: natsUrl, namespace, subscription: 'bench', domains: ['shelf'], logger, maxAttempts: 5 });
      t0 = performance.now();
      await subscriber.start(async (event, attempt) => {
        const outcome = await consumer.deliver(event, attempt);
        if (outcome.kind === 'done') handled += 1;
        return outcome;
      });
      await until(() => handled >= count);
      const ourConsumeRate = count / ((performance.now() - t0) / 1_000);
      rows.push(
        { variant: 'raw consume() + insert + ack', metric: 'consume', value: rawConsumeRate, unit: 'events/s' },
        { variant: 'our consumer', metric: 'consume', value: ourConsumeRate, unit: 'events/s', note: `${(ourConsumeRate / rawConsumeRate * 100).toFixed(0)}% of raw (includes connecting and subscribing)` },
      );

      // Latency at half the capacity: the slower of relay and consumer.
      const capacity = Math.min(relayRate, ourConsumeRate);
      const rate = capacity / 2;
      const committedAt = new Map<string, number>();
      const latencies: number[] = [];
      const latencyConsumer = createEventConsumer({
        db: ourSink, subscription: 'bench-latency', logger,
        handlers: [on(itemAdded, async () => {})],
      });
      const latencySubscriber = createNatsSubscriber({ url: natsUrl, namespace, subscription: 'bench-latency', domains: ['shelf'], logger, maxAttempts: 5 });
      let backlog = 0;
      await latencySubscriber.start(async (event, attempt) => {
        const outcome = await latencyConsumer.deliver(event, attempt);
        if (outcome.kind === 'done') backlog += 1;
        const at = committedAt.get(event.id);
        if (outcome.kind === 'done' && at !== undefined) latencies.push(performance.now() - at);
        return outcome;
      });
      // The stream's earlier events reach this new subscription first: let it catch up before timing.
      await until(() => backlog >= count);
      const liveRelay = startOutboxRelay({ db: source, publisher, logger }, { batchSize: 100, pollIntervalMs: 250 });
      const outbox = createOutbox({ domain: 'shelf' });
      const durationMs = 5_000;
      const start = performance.now();
      let sent = 0;
      const writes: Array<Promise<void>> = [];
      while (performance.now() - start < durationMs) {
        const due = Math.floor(((performance.now() - start) / 1_000) * rate);
        for (; sent < due; sent++) {
          const n = sent;
          writes.push(source.transaction((tx) => outbox.add(tx, itemAdded, { aggregateId: `live-${n}`, data: { item: `live-${n}`, n } })).then((event) => {
            committedAt.set(event.id, performance.now());
            liveRelay.wake();
          }));
        }
        await sleep(2);
      }
      await Promise.all(writes);
      await until(() => latencies.length >= sent);
      await liveRelay.stop();
      await latencySubscriber.stop();
      await subscriber.stop();
      const summary = summarize(latencies);
      rows.push(
        { variant: `at ${rate.toFixed(0)} events/s (half of ${capacity.toFixed(0)})`, metric: 'commit-to-handled p50', value: summary.p50Ms, unit: 'ms' },
        { variant: `at ${rate.toFixed(0)} events/s (half of ${capacity.toFixed(0)})`, metric: 'commit-to-handled p99', value: summary.p99Ms, unit: 'ms', note: `${summary.count} events` },
      );

      // End to end on each database engine: outbox → relay → NATS → consumer.
      for (const kind of ['pglite', 'postgres'] as const) {
        let from: Database;
        let to: Database;
        try {
          from = await freshDb(kind, cleanups);
          to = await withSink(await freshDb(kind, cleanups));
        } catch (error) {
          rows.push({ variant: kind, metric: 'end to end', value: Number.NaN, unit: 'events/s', note: `skipped: ${(error as Error).message}` });
          continue;
        }
        const e2eNamespace = `${namespace}${kind === 'pglite' ? 'l' : 'p'}`;
        await writeEvents(from, { count, aggregates: 500 });
        const e2ePublisher = createNatsPublisher({ url: natsUrl, namespace: e2eNamespace, domain: 'shelf', logger });
        cleanups.push(() => e2ePublisher.close());
        let done = 0;
        const e2eConsumer = createEventConsumer({
          db: to, subscription: 'bench', logger,
          handlers: [on(itemAdded, async (event, { tx }) => {
            await tx.query('insert into shelf (item, n, event_id) values ($1, $2, $3)', [event.data.item, event.data.n, event.id]);
          })],
        });
        const e2eSubscriber = createNatsSubscriber({ url: natsUrl, namespace: e2eNamespace, subscription: 'bench', domains: ['shelf'], logger, maxAttempts: 5 });
        await e2eSubscriber.start(async (event, attempt) => {
          const outcome = await e2eConsumer.deliver(event, attempt);
          if (outcome.kind === 'done') done += 1;
          return outcome;
        });
        await sleep(500);
        t0 = performance.now();
        const e2eRelay = startOutboxRelay({ db: from, publisher: e2ePublisher, logger }, { batchSize: 100, pollIntervalMs: 1 });
        await until(() => done >= count);
        const e2eRate = count / ((performance.now() - t0) / 1_000);
        await e2eRelay.stop();
        await e2eSubscriber.stop();
        rows.push({ variant: kind === 'pglite' ? 'PGlite (embedded)' : 'PostgreSQL', metric: 'end to end', value: e2eRate, unit: 'events/s', note: 'outbox to handled' });
      }
      return rows;
    } finally {
      for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
      for await (const stream of jsm.streams.names()) {
        if (stream.startsWith(namespace)) await jsm.streams.delete(stream).catch(() => false);
      }
      await nc.close();
    }
  },
};
