import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Database } from '../../db/index.ts';
import { createHttpClient } from '../../http/index.ts';
import { addCleanup, createSilentLogger, writeEvents } from '../../testing/index.ts';
import { startOutboxRelay } from '../relay.ts';
import { createFeedPublisher } from './feed-publisher.ts';
import { feedPath, registerFeedRoute, type FeedPage } from './feed-routes.ts';
import { createFeedSubscriber } from './feed-subscriber.ts';
import { createWakeList, type WakeList } from '../wake-list.ts';
import { openDb, waitUntil } from './transport-suite.ts';

// The feed's long poll, on a real database: a read that finds nothing new is held until its
// publisher has events (told by its own relay, or seen on a recheck when another replica
// published), until its wait runs out, or until the service closes; and the kit's subscriber,
// idle, asks once per wait instead of once per poll interval. Each wait that matters here is
// far longer than the test, so a held read that was not woken would fail it, not slow it.

interface Feed {
  app: FastifyInstance;
  url: string;
  waiters: WakeList;
  /** Reads of the feed so far. */
  reads: () => number;
}

async function serveFeed(t: TestContext, db: Database, { recheckMs }: { recheckMs: number }): Promise<Feed> {
  const app = Fastify();
  const waiters = createWakeList();
  let reads = 0;
  app.addHook('onRequest', (_request, _reply, done) => {
    reads += 1;
    done();
  });
  registerFeedRoute(app, { db, readers: 'any-service', waiters, recheckMs });
  app.addHook('preClose', (done) => {
    waiters.close();
    done();
  });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  addCleanup(t, () => app.close());
  return { app, url, waiters, reads: () => reads };
}

async function read(feed: Feed, query: string): Promise<FeedPage> {
  const response = await fetch(`${feed.url}${feedPath}?${query}`);
  assert.equal(response.status, 200);
  return await response.json() as FeedPage;
}

/** A relay of the same database that tells `told` when it published (this process), or nobody (another replica). */
function relayOf(t: TestContext, db: Database, told?: WakeList) {
  const relay = startOutboxRelay({ db, publisher: createFeedPublisher(), logger: createSilentLogger() }, {
    pollIntervalMs: 3_600_000, ...(told === undefined ? {} : { onPublished: () => told.wakeAll() }),
  });
  addCleanup(t, () => relay.stop());
  return relay;
}

void test('a read with nothing new is held, and answered with the events as soon as its own relay publishes them', async (t) => {
  const db = await openDb(t, 'baton-feed-long-poll-test');
  if (db === undefined) return;
  // No recheck within the test: only the relay's word can answer the read before its wait.
  const feed = await serveFeed(t, db, { recheckMs: 3_600_000 });
  const relay = relayOf(t, db, feed.waiters);
  const held = read(feed, 'after=0&waitMs=30000');
  await waitUntil(async () => feed.reads() === 1, 'the read arrived');
  const written = await writeEvents(db, { count: 2, aggregates: 2 });
  relay.wake();
  const page = await held;
  assert.deepEqual(page.events.map(({ event }) => event.id).sort(), written.map((event) => event.id).sort());
  assert.equal(page.lastPosition, 2);
});

void test('what another replica publishes is found on a recheck; with nothing at all, the page is empty once the wait is over', async (t) => {
  const db = await openDb(t, 'baton-feed-long-poll-test');
  if (db === undefined) return;
  const feed = await serveFeed(t, db, { recheckMs: 50 });
  const empty = await read(feed, 'after=0&waitMs=200');
  assert.deepEqual(empty, { events: [], lastPosition: 0 }, 'nothing after the cursor: an empty page, the cursor unchanged');
  const held = read(feed, 'after=0&waitMs=30000');
  await waitUntil(async () => feed.reads() === 2, 'the read arrived');
  // Another replica's relay: it tells nobody in this process.
  const replica = relayOf(t, db);
  await writeEvents(db, { count: 1, aggregates: 1 });
  await replica.drain();
  assert.equal((await held).events.length, 1);
});

void test('closing the service answers every held read at once', async (t) => {
  const db = await openDb(t, 'baton-feed-long-poll-test');
  if (db === undefined) return;
  const feed = await serveFeed(t, db, { recheckMs: 3_600_000 });
  const held = read(feed, 'after=0&waitMs=30000');
  await waitUntil(async () => feed.reads() === 1, 'the read arrived');
  const closed = feed.app.close();
  assert.deepEqual(await held, { events: [], lastPosition: 0 });
  // A kit service answers `Connection: close` while closing; this bare server keeps it alive.
  feed.app.server.closeIdleConnections();
  await closed;
});

void test('the kit\'s subscriber, idle, asks once per wait; against a publisher that answers at once, once per poll interval', async (t) => {
  const db = await openDb(t, 'baton-feed-long-poll-test');
  const consumerDb = await openDb(t, 'baton-feed-long-poll-test');
  if (db === undefined || consumerDb === undefined) return;
  const feed = await serveFeed(t, db, { recheckMs: 3_600_000 });
  const relay = relayOf(t, db, feed.waiters);
  const handled: string[] = [];
  const subscriber = (waitMs: number) => createFeedSubscriber({
    db: consumerDb, subscription: 'shelf-keeper', logger: createSilentLogger(), pollIntervalMs: 20, waitMs,
    feeds: { shelf: createHttpClient({ name: 'shelf-feed', urls: [feed.url], timeoutMs: 5_000 }) },
  });
  const holding = subscriber(400);
  await holding.start(async (event) => {
    handled.push(event.id);
    return { kind: 'done' };
  });
  addCleanup(t, () => holding.stop());
  await waitUntil(async () => feed.reads() >= 1, 'the subscriber reads');
  const before = feed.reads();
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  const heldReads = feed.reads() - before;
  // Polling every 20 ms would be about 50 reads in that second; held 400 ms each, at most 3 and the one under way.
  assert.ok(heldReads <= 4, `${heldReads} reads in a second of 400 ms waits`);
  const written = await writeEvents(db, { count: 1, aggregates: 1 });
  relay.wake();
  await waitUntil(async () => handled.length === 1, 'the event handled');
  assert.deepEqual(handled, [written[0]?.id]);
  await holding.stop();

  // A publisher that holds nothing (closing, or one from before the long poll): the poll interval is kept.
  feed.waiters.close();
  const polling = subscriber(400);
  await polling.start(async () => ({ kind: 'done' }));
  addCleanup(t, () => polling.stop());
  const from = feed.reads();
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  const polled = feed.reads() - from;
  assert.ok(polled >= 2 && polled <= 60, `${polled} reads in a second of 20 ms polls: it neither stops nor spins`);
});
