import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Database } from '@baton/kit/db';
import { Code } from '@baton/kit/errors';
import type { HttpClientEvent } from '@baton/kit/http';
import { createMetrics, type Metrics } from '@baton/kit/telemetry';
// The kit's own metric factories, reached by path (no entry exports them): the readings below are
// what a service really serves, so a renamed metric or label breaks these tests, not the map.
import { createConsumerMetrics, createOutboxMetrics } from '../../kit/src/messaging/metrics.ts';
import { createClientMetrics } from '../../kit/src/telemetry/client-metrics.ts';
import { createResourceMetrics } from '../../kit/src/telemetry/resource-metrics.ts';
import { edgesOf, nodeOf, p99Between, type MetricFamily, type Reading } from './network-map.ts';

const instanceA = 'http://127.0.0.1:9101';
const instanceB = 'http://127.0.0.1:9102';

/**
 * A service's metrics as the kit makes them (one registry, its server, client and resource
 * metrics; a consumer's and an outbox's when asked, over a stand-in database answering the
 * gauges' queries), and its readings as the poller gets them from `/admin/metrics.json`.
 */
function createService({ database }: { database?: { deadLetters: Array<{ subscription: string; count: number }>; pending: number; oldestSeconds: number } } = {}) {
  const metrics: Metrics = createMetrics();
  const client = createClientMetrics(metrics.registry);
  const stats = new Map<string, { retryBudgetAvailable: number; outstanding: number[] }>();
  const resources = createResourceMetrics(metrics.registry, undefined);
  const db = {
    async query(sql: string) {
      if (database === undefined) return { rows: [] };
      if (sql.includes('baton_dead_letters')) return { rows: database.deadLetters };
      if (sql.includes('extract(epoch')) return { rows: [{ age: database.oldestSeconds }] };
      return { rows: [{ count: database.pending }] };
    },
  } as unknown as Database;
  const consumer = database === undefined ? undefined : createConsumerMetrics(metrics.registry, db);
  if (database !== undefined) createOutboxMetrics(metrics.registry, db);
  return {
    metrics,
    send: (...events: HttpClientEvent[]) => events.forEach((event) => client.onEvent(event)),
    /** A client the resource gauges read (retry budget, calls in flight per instance). */
    track(name: string, state: { retryBudgetAvailable: number; outstanding: number[] }) {
      stats.set(name, state);
      resources.trackClient({
        name,
        stats: () => ({ retryBudgetAvailable: stats.get(name)!.retryBudgetAvailable, instances: stats.get(name)!.outstanding.map((outstanding) => ({ outstanding, ejected: false })) }),
      });
    },
    deliver(delivery: Parameters<NonNullable<typeof consumer>['record']>[0]) {
      consumer!.record(delivery);
    },
    /** The registry read at `atMs`, through JSON as over the wire. */
    async readingAt(atMs: number): Promise<Reading> {
      return { atMs, families: JSON.parse(JSON.stringify(await metrics.registry.getMetricsAsJSON())) as MetricFamily[] };
    },
  };
}

function attempt(upstream: string, outcome: 'ok' | 'error', durationMs: number, instance = instanceA): HttpClientEvent {
  return {
    type: 'attempt_end', upstream, instance, method: 'GET', attempt: 1, hedge: false,
    status: outcome === 'ok' ? 200 : 503, code: outcome === 'ok' ? undefined : Code.Unavailable, outcome, durationMs,
  };
}

const times = <T>(n: number, make: () => T): T[] => Array.from({ length: n }, make);
const ofInventory = (labels: Record<string, string | number>) => labels.upstream === 'inventory';
const close = (actual: number | undefined, expected: number, what: string) => {
  assert.ok(actual !== undefined && Math.abs(actual - expected) < 1e-6, `${what}: ${actual} ≠ ${expected}`);
};

test('p99Between interpolates within the bucket the 99th percentile falls in, as histogram_quantile does', async () => {
  const service = createService();
  const before = await service.readingAt(1_000);
  // 90 attempts in (2.5 ms, 5 ms], 10 in (50 ms, 100 ms]: the 99th of 100 is the 9th of the 10
  // slow ones, 9/10 of the way through their bucket: 50 + 50 × 0.9 = 95 ms.
  service.send(...times(90, () => attempt('inventory', 'ok', 3)), ...times(10, () => attempt('inventory', 'ok', 80)));
  const after = await service.readingAt(2_000);
  close(p99Between(before, after, 'baton_client_attempt_duration_seconds', ofInventory), 95, 'p99 of the first second');

  // Only what happened between the two readings counts: the next second's 100 are all slow.
  service.send(...times(100, () => attempt('inventory', 'error', 80)));
  const later = await service.readingAt(3_000);
  close(p99Between(after, later, 'baton_client_attempt_duration_seconds', ofInventory), 99.5, 'p99 of the second second');
  // Another upstream's series are not counted.
  assert.equal(p99Between(after, later, 'baton_client_attempt_duration_seconds', (labels) => labels.upstream === 'users'), undefined);
});

test('p99Between: past the last finite bound the answer is that bound; with nothing observed, or one reading, undefined', async () => {
  const service = createService();
  const before = await service.readingAt(1_000);
  service.send(...times(5, () => attempt('inventory', 'error', 20_000)));
  const after = await service.readingAt(2_000);
  // Buckets end at 10 s: a 20 s attempt is somewhere above it, and 10 s is what can be said.
  assert.equal(p99Between(before, after, 'baton_client_attempt_duration_seconds', ofInventory), 10_000);
  assert.equal(p99Between(after, await service.readingAt(3_000), 'baton_client_attempt_duration_seconds', ofInventory), undefined, 'no attempt in between');
  assert.equal(p99Between(undefined, after, 'baton_client_attempt_duration_seconds', ofInventory), undefined, 'a first reading has no "between"');
  assert.equal(p99Between(before, after, 'baton_no_such_histogram_seconds', () => true), undefined);
});

test('p99Between after a restart (the counts went down) counts the new process\'s from zero, as the rates do', async () => {
  const old = createService();
  old.send(...times(1_000, () => attempt('inventory', 'ok', 3)));
  const before = await old.readingAt(1_000);
  // The service restarted: a fresh registry, with fewer observations than the old one had.
  const restarted = createService();
  restarted.send(...times(100, () => attempt('inventory', 'ok', 80)));
  const after = await restarted.readingAt(2_000);
  close(p99Between(before, after, 'baton_client_attempt_duration_seconds', ofInventory), 99.5, 'p99 after the restart');
});

test('edgesOf: a client\'s upstream is an edge with attempts, errors, p99, retries, give-ups, hedges, refusals, budget and in-flight; one open breaker of two instances makes the edge open', async () => {
  const gateway = createService();
  gateway.send({ type: 'discovery', upstream: 'inventory', instances: [instanceA, instanceB] });
  gateway.track('inventory', { retryBudgetAvailable: 7, outstanding: [2, 1] });
  gateway.send(...times(4, () => attempt('inventory', 'ok', 3)));
  const before = await gateway.readingAt(10_000);

  // Two seconds of: 16 answered, 6 failed; 4 retries, 2 give-ups, 2 hedges, 1 refusal; B's breaker opens.
  gateway.send(
    ...times(16, () => attempt('inventory', 'ok', 3)),
    ...times(6, () => attempt('inventory', 'error', 3, instanceB)),
    ...times(4, (): HttpClientEvent => ({ type: 'retry', upstream: 'inventory', attempt: 1, delayMs: 50, code: Code.Unavailable })),
    ...times(2, (): HttpClientEvent => ({ type: 'give_up', upstream: 'inventory', attempt: 3, reason: 'max_attempts', code: Code.Unavailable })),
    ...times(2, (): HttpClientEvent => ({ type: 'hedge', upstream: 'inventory', delayMs: 10 })),
    { type: 'bulkhead_reject', upstream: 'inventory' },
    { type: 'breaker_state', upstream: 'inventory', instance: instanceB, from: 'closed', to: 'open' },
  );
  const after = await gateway.readingAt(12_000);

  const edges = edgesOf('gateway', before, after);
  assert.equal(edges.length, 1, JSON.stringify(edges));
  const [edge] = edges;
  assert.ok(edge);
  assert.deepEqual({ from: edge.from, to: edge.to, via: edge.via }, { from: 'gateway', to: 'inventory', via: 'call' });
  assert.equal(edge.perSecond, 11);
  assert.equal(edge.errorsPerSecond, 3);
  assert.equal(edge.retriesPerSecond, 2);
  assert.equal(edge.giveUpsPerSecond, 1);
  assert.equal(edge.hedgesPerSecond, 1);
  assert.equal(edge.refusedPerSecond, 0.5);
  assert.equal(edge.retryBudget, 7);
  assert.equal(edge.inFlight, 3);
  // All 22 attempts took 3 ms: in (2.5 ms, 5 ms].
  assert.ok(edge.p99Ms !== undefined && edge.p99Ms > 2.5 && edge.p99Ms <= 5, `p99 ${edge.p99Ms}`);
  assert.equal(edge.breaker, 'open');
  assert.deepEqual(edge.instances, [{ instance: instanceA, breaker: 'closed' }, { instance: instanceB, breaker: 'open' }]);
  assert.equal(edge.lagSeconds, undefined);

  // Half-open is worse than closed, better than open; the first reading has no rates yet.
  gateway.send({ type: 'breaker_state', upstream: 'inventory', instance: instanceB, from: 'open', to: 'half_open' });
  const probing = edgesOf('gateway', undefined, await gateway.readingAt(13_000))[0];
  assert.equal(probing?.breaker, 'half-open');
  assert.equal(probing?.perSecond, 0);
});

test('edgesOf: a feed client (`orders-feed`) is an edge to the publisher via feed, and a consumer\'s deliveries of order.created an event edge to orders', async () => {
  const notifications = createService({ database: { deadLetters: [], pending: 0, oldestSeconds: 0 } });
  notifications.send({ type: 'discovery', upstream: 'orders-feed', instances: [instanceA] });
  const before = await notifications.readingAt(0);
  notifications.send(...times(10, () => attempt('orders-feed', 'ok', 3)));
  // Ten events made two seconds ago, handled now: their lag is in (1 s, 2.5 s]. Two of them failed once first.
  const time = new Date(Date.now() - 2_000).toISOString();
  for (let i = 0; i < 10; i++) notifications.deliver({ subscription: 'notifications.orders', type: 'order.created', time, attempt: i < 2 ? 2 : 1, outcome: { kind: 'done' } });
  notifications.deliver({ subscription: 'notifications.orders', type: 'order.created', time, attempt: 1, outcome: { kind: 'retry', delayMs: 100, error: new Error('smtp down') } });
  notifications.deliver({ subscription: 'notifications.orders', type: 'order.cancelled', time, attempt: 5, outcome: { kind: 'dead', error: 'smtp down' } });
  const after = await notifications.readingAt(1_000);

  const edges = edgesOf('notifications', before, after);
  assert.deepEqual(edges.map((e) => [e.from, e.to, e.via]), [['notifications', 'orders', 'feed'], ['notifications', 'orders', 'event']]);
  const [feed, events] = edges;
  assert.equal(feed?.perSecond, 10);
  assert.equal(feed?.p99Ms, undefined, 'a feed read is a long poll: its time is the wait, so no p99 is shown');
  assert.equal(feed?.breaker, 'closed');
  // Both order.* types are the orders service's: 12 deliveries, 2 of them failed, 3 redeliveries.
  assert.equal(events?.perSecond, 12);
  assert.equal(events?.errorsPerSecond, 2);
  assert.equal(events?.retriesPerSecond, 3);
  assert.equal(events?.breaker, 'closed');
  assert.deepEqual(events?.instances, []);
  assert.ok(events?.lagSeconds !== undefined && events.lagSeconds > 1 && events.lagSeconds <= 2.5, `lag ${events?.lagSeconds}`);
});

test('nodeOf: requests, 5xx and shed load a second, p99, and the outbox and dead letters when the service has them', async () => {
  const orders = createService({ database: { deadLetters: [{ subscription: 'orders.payments', count: 2 }, { subscription: 'orders.users', count: 1 }], pending: 4, oldestSeconds: 12.5 } });
  const { requests, duration } = orders.metrics.httpServer;
  const answer = (status: number, n: number) => {
    for (let i = 0; i < n; i++) {
      requests.inc({ method: 'GET', route: '/v1/orders', status_code: status });
      duration.observe({ method: 'GET', route: '/v1/orders', status_code: status }, 0.03);
    }
  };
  answer(200, 5);
  const before = await orders.readingAt(0);
  // A feed read held for its 2 s wait: not what the service's answers take.
  duration.observe({ method: 'GET', route: '/events/v1/feed', status_code: 200 }, 2);
  answer(200, 30);
  answer(404, 4);
  answer(500, 2);
  answer(503, 6);
  orders.metrics.protection.shed.inc({ route: '/v1/orders', priority: 'normal' }, 5);
  const after = await orders.readingAt(2_000);

  const node = nodeOf('orders', before, after);
  assert.equal(node.name, 'orders');
  assert.equal(node.requestsPerSecond, 21, '42 answers in 2 s');
  assert.equal(node.errorsPerSecond, 4, '500 and 503 are errors; 404 is not');
  assert.equal(node.shedPerSecond, 2.5);
  // Every request took 30 ms: in (25 ms, 50 ms]; the held feed read is left out.
  assert.ok(node.p99Ms !== undefined && node.p99Ms > 25 && node.p99Ms <= 50, `p99 ${node.p99Ms}`);
  assert.equal(node.outboxPending, 4);
  assert.equal(node.outboxOldestSeconds, 12.5);
  assert.equal(node.deadLetters, 3, 'summed over subscriptions');

  // A service without an outbox or consumers has none; after a restart, its counts start from zero.
  const gateway = createService();
  gateway.metrics.httpServer.requests.inc({ method: 'GET', route: '/', status_code: 200 }, 100);
  const old = await gateway.readingAt(0);
  const restarted = createService();
  restarted.metrics.httpServer.requests.inc({ method: 'GET', route: '/', status_code: 200 }, 10);
  const fresh = nodeOf('gateway', old, await restarted.readingAt(1_000));
  assert.equal(fresh.requestsPerSecond, 10);
  assert.equal(fresh.outboxPending, undefined);
  assert.equal(fresh.outboxOldestSeconds, undefined);
  assert.equal(fresh.deadLetters, undefined);
  assert.equal(nodeOf('gateway', undefined, old).requestsPerSecond, 0, 'one reading: no rate yet');
});
