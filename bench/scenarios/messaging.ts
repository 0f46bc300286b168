import { randomBytes } from 'node:crypto';
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { connect, headers } from '@nats-io/transport-node';
import type { Database } from '../../packages/kit/src/db/index.ts';
import { createNatsPublisher, createNatsSubscriber } from '../../packages/kit/src/messaging/brokers.ts';
import {
  cloudEventContentType, createEventConsumer, createOutbox, natsNames, on, startOutboxRelay, type CloudEvent,
} from '../../packages/kit/src/messaging/index.ts';
import { itemAdded, writeEvents } from '@baton/kit/testing';
import { settle } from '../harness/settle.ts';
import type { Row, Scenario } from '../harness/report.ts';
import { median, summarize } from '../harness/stats.ts';
import { counter, freshDb, logger, natsUrl, until, withSink, type Cleanups } from './messaging/fixtures.ts';

const count = 3_000;
/** Where the databases are, without a password. */
const aggregates = 500;
/** Rounds measured after one round of warm-up; the two variants of a pair swap places each round. */
const rounds = 7;

type Nats = { js: JetStreamClient; jsm: JetStreamManager };

function shelfConsumer(db: Database, subscription: string, onHandled: () => void) {
  return createEventConsumer({
    db, subscription, logger,
    handlers: [on(itemAdded, async (event, { tx }) => {
      await tx.query('insert into shelf (item, n, event_id) values ($1, $2, $3)', [event.data.item, event.data.n, event.id]);
      onHandled();
    })],
  });
}

/** Starts our consumer on a namespace's shelf stream: counts an event once its transaction has committed. */
async function startOurConsumer(db: Database, namespace: string, subscription: string, onDone: (event: CloudEvent) => void) {
  const consumer = shelfConsumer(db, subscription, () => {});
  const subscriber = createNatsSubscriber({ url: natsUrl, namespace, subscription, domains: ['shelf'], logger, maxAttempts: 5 });
  await subscriber.start(async (event, attempt) => {
    const outcome = await consumer.deliver(event, attempt);
    if (outcome.kind === 'done') onDone(event);
    return outcome;
  });
  return subscriber;
}

/**
 * The same events, the relay on PostgreSQL vs a raw loop sending identical messages (subject
 * scheme, body, headers, Nats-Msg-Id) 100 at a time. The two take turns going first, round by
 * round.
 */
async function publishRound(round: number, namespace: string, { js, jsm }: Nats, cleanups: Cleanups) {
  const source = await freshDb(cleanups);
  const events = await writeEvents(source, { count, aggregates });
  await source.exec('analyze baton_outbox, baton_outbox_pending');
  // The stream exists before any variant is timed (a publisher creates its own on first use).
  const publisher = createNatsPublisher({ url: natsUrl, namespace, domain: 'shelf', logger });
  cleanups.push(() => publisher.close());
  await publisher.publish([], { signal: AbortSignal.timeout(10_000), tx: source });
  await jsm.streams.add({ name: `${namespace}_raw`, subjects: [`${namespace}.raw.>`] });

  async function raw(): Promise<number> {
    const t0 = performance.now();
    for (let i = 0; i < events.length; i += 100) {
      await Promise.all(events.slice(i, i + 100).map((event) => {
        const h = headers();
        h.set('content-type', cloudEventContentType);
        h.set('traceparent', event.traceparent);
        return js.publish(`${namespace}.raw.${event.type}`, JSON.stringify(event), { msgID: event.id, headers: h });
      }));
    }
    return count / ((performance.now() - t0) / 1_000);
  }
  async function relay(): Promise<number> {
    const sent = counter(count);
    const t0 = performance.now();
    const running = startOutboxRelay({ db: source, publisher, logger }, { batchSize: 100, pollIntervalMs: 1, onPublished: (n) => sent.add(n) });
    await sent.done;
    const rate = count / ((performance.now() - t0) / 1_000);
    await running.stop();
    return rate;
  }
  const variants = { raw, relay };
  const order = Object.keys(variants) as Array<keyof typeof variants>;
  const rates = { raw: 0, relay: 0 };
  for (let i = 0; i < order.length; i++) {
    const name = order[(i + round) % order.length]!;
    await settle();
    rates[name] = await variants[name]();
  }
  return rates;
}

/** The relay's stream of a round (every event once), read by our consumer vs a raw consume() loop doing the same insert in a transaction and acking. */
async function consumeRound(round: number, namespace: string, { js, jsm }: Nats, cleanups: Cleanups) {
  const stream = natsNames(namespace).stream('shelf');
  async function raw(): Promise<number> {
    const sink = await withSink(await freshDb(cleanups));
    await jsm.consumers.add(stream, { durable_name: 'raw', ack_policy: AckPolicy.Explicit, deliver_policy: DeliverPolicy.All });
    const messages = await (await js.consumers.get(stream, 'raw')).consume({ max_messages: 100 });
    let done = 0;
    await settle();
    const t0 = performance.now();
    for await (const msg of messages) {
      const event = msg.json<CloudEvent<{ item: string; n: number }>>();
      await sink.transaction((tx) => tx.query('insert into shelf (item, n, event_id) values ($1, $2, $3)', [event.data.item, event.data.n, event.id]));
      msg.ack();
      if (++done === count) break;
    }
    const rate = count / ((performance.now() - t0) / 1_000);
    await messages.close();
    return rate;
  }
  async function ours(): Promise<number> {
    const sink = await withSink(await freshDb(cleanups));
    const handled = counter(count);
    await settle();
    const t0 = performance.now();
    const subscriber = await startOurConsumer(sink, namespace, 'bench', () => handled.add());
    await handled.done;
    const rate = count / ((performance.now() - t0) / 1_000);
    await subscriber.stop();
    return rate;
  }
  const [first, second] = round % 2 === 0 ? [raw, ours] : [ours, raw];
  const a = await first();
  const b = await second();
  return round % 2 === 0 ? { raw: a, ours: b } : { raw: b, ours: a };
}

/**
 * Commit in the outbox to commit in the consumer, everything live in one process as in a
 * service: writers commit events (waking the relay, as the services do), the relay publishes,
 * our consumer handles. First the capacity: writers as fast as they go for 3 s, and the events
 * handled per second meanwhile; then an open loop at half of it for 5 s.
 */
async function liveLatency(namespace: string, cleanups: Cleanups) {
  const source = await freshDb(cleanups);
  const sink = await withSink(await freshDb(cleanups));
  const publisher = createNatsPublisher({ url: natsUrl, namespace, domain: 'shelf', logger });
  cleanups.push(() => publisher.close());
  const relay = startOutboxRelay({ db: source, publisher, logger }, { batchSize: 100, pollIntervalMs: 250 });
  cleanups.push(() => relay.stop());
  const outbox = createOutbox({ domain: 'shelf' });
  const committedAt = new Map<string, number>();
  const latencies: number[] = [];
  let handled = 0;
  let measuring = false;
  const subscriber = await startOurConsumer(sink, namespace, 'bench-latency', (event) => {
    handled += 1;
    const at = committedAt.get(event.id);
    if (measuring && at !== undefined) latencies.push(performance.now() - at);
  });
  cleanups.push(() => subscriber.stop());
  let written = 0;
  const write = async () => {
    const n = written++;
    const event = await source.transaction((tx) => outbox.add(tx, itemAdded, { aggregateId: `live-${n}`, data: { item: `live-${n}`, n } }));
    committedAt.set(event.id, performance.now());
    relay.wake();
  };

  const capacityMs = 3_000;
  const handledBefore = handled;
  let start = performance.now();
  await Promise.all(Array.from({ length: 4 }, async () => {
    while (performance.now() - start < capacityMs) {
      await write();
    }
  }));
  const capacity = (handled - handledBefore) / (capacityMs / 1_000);
  await until(() => handled >= written);

  const rate = capacity / 2;
  measuring = true;
  const durationMs = 5_000;
  const writes: Array<Promise<void>> = [];
  let due = 0;
  start = performance.now();
  while (performance.now() - start < durationMs) {
    for (const target = Math.floor(((performance.now() - start) / 1_000) * rate); due < target; due++) writes.push(write());
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  await Promise.all(writes);
  await until(() => latencies.length >= due);
  return { capacity, rate, summary: summarize(latencies) };
}

/** Outbox → relay → NATS → consumer, a database each side, the events written before the clock starts. */
async function endToEnd(namespace: string, cleanups: Cleanups): Promise<Row> {
  const from = await freshDb(cleanups);
  const to = await withSink(await freshDb(cleanups));
  await writeEvents(from, { count, aggregates });
  const publisher = createNatsPublisher({ url: natsUrl, namespace, domain: 'shelf', logger });
  cleanups.push(() => publisher.close());
  const done = counter(count);
  const subscriber = await startOurConsumer(to, namespace, 'bench', () => done.add());
  cleanups.push(() => subscriber.stop());
  await until(async () => { try { await subscriber.check(AbortSignal.timeout(1_000)); return true; } catch { return false; } });
  const t0 = performance.now();
  const relay = startOutboxRelay({ db: from, publisher, logger }, { batchSize: 100, pollIntervalMs: 1 });
  await done.done;
  const rate = count / ((performance.now() - t0) / 1_000);
  await relay.stop();
  return { variant: 'PostgreSQL', metric: 'end to end', value: rate, unit: 'events/s', note: 'outbox to handled' };
}

const ratioNote = (ratios: number[]) => `${(median(ratios) * 100).toFixed(0)}% of raw (median of rounds: ${ratios.map((r) => `${(r * 100).toFixed(0)}%`).join(', ')})`;

export const messaging: Scenario = {
  name: 'messaging',
  description: `Events on one NATS JetStream (${natsUrl}), ${count} events over ${aggregates} aggregates a run, all in one process. ` +
    `${rounds} rounds after one of warm-up; in each the variants of a pair run one after the other, swapping places every round, each after a pause and a full garbage collection; ` +
    'the table gives the medians over rounds, and each ratio is the median of the rounds\' own ratios. ' +
    'Every database is a fresh one on the PostgreSQL of BENCH_POSTGRES_URL, else on one the run starts (durable, as npm start\'s). ' +
    'Publish: the outbox relay (batches of 100, first event per aggregate, marked sent) vs a raw nats.js loop sending identical ' +
    'messages (CloudEvent body, content-type and traceparent headers, Nats-Msg-Id) 100 at a time. Consume: our consumer (inbox row, ' +
    'per-aggregate sequence, handler insert, group commit with a savepoint per event) vs a raw consume() loop doing the same insert in ' +
    'a transaction and acking. Latency: commit in the outbox to commit in the consumer, live (writers, relay ' +
    'and consumer in one process), at half the capacity measured live. End to end: outbox to handled.',
  target: 'relay ≥ 50% of the raw publish loop; consumer ≥ 80% of the raw consume() loop',
  async run() {
    const cleanups: Cleanups = [];
    const namespace = `bench_${randomBytes(4).toString('hex')}`;
    const nc = await connect({ servers: natsUrl });
    const nats: Nats = { js: jetstream(nc), jsm: await jetstreamManager(nc) };
    const rows: Row[] = [];
    try {
      const publish = { raw: [] as number[], relay: [] as number[], ratio: [] as number[] };
      const consume = { raw: [] as number[], ours: [] as number[], ratio: [] as number[] };
      for (let round = 0; round <= rounds; round++) {
        const roundNamespace = `${namespace}r${round}`;
        const p = await publishRound(round, roundNamespace, nats, cleanups);
        const c = await consumeRound(round, roundNamespace, nats, cleanups);
        if (round === 0) continue;
        publish.raw.push(p.raw); publish.relay.push(p.relay); publish.ratio.push(p.relay / p.raw);
        consume.raw.push(c.raw); consume.ours.push(c.ours); consume.ratio.push(c.ours / c.raw);
      }
      rows.push(
        { variant: 'raw js.publish loop', metric: 'publish', value: median(publish.raw), unit: 'events/s' },
        { variant: 'outbox relay (PostgreSQL)', metric: 'publish', value: median(publish.relay), unit: 'events/s', note: ratioNote(publish.ratio) },
        { variant: 'raw consume() + insert + ack', metric: 'consume', value: median(consume.raw), unit: 'events/s' },
        { variant: 'our consumer', metric: 'consume', value: median(consume.ours), unit: 'events/s', note: `${ratioNote(consume.ratio)}; includes connecting and subscribing` },
      );

      const live = await liveLatency(`${namespace}l`, cleanups);
      const at = `at ${live.rate.toFixed(0)} events/s (half of ${live.capacity.toFixed(0)} live)`;
      rows.push(
        { variant: at, metric: 'commit-to-handled p50', value: live.summary.p50Ms, unit: 'ms' },
        { variant: at, metric: 'commit-to-handled p99', value: live.summary.p99Ms, unit: 'ms', note: `${live.summary.count} events` },
      );
      rows.push(await endToEnd(`${namespace}e`, cleanups));
      return rows;
    } finally {
      for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
      for await (const stream of nats.jsm.streams.names()) {
        if (stream.startsWith(namespace)) await nats.jsm.streams.delete(stream).catch(() => false);
      }
      await nc.close();
    }
  },
};
