import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CollectedSpan } from './otlp-json.ts';
import { createTraceStore } from './trace-store.ts';

let nextId = 0;
const hex = (n: number, width: number) => n.toString(16).padStart(width, '0');

/** A span of `traceNumber`'s trace, `startMs` after the epoch, lasting `durationMs`. */
function span(traceNumber: number, service: string, name: string, { parent, startMs = 0, durationMs = 5, error = false }: {
  parent?: string; startMs?: number; durationMs?: number; error?: boolean;
} = {}): CollectedSpan {
  const startNs = BigInt(Math.round((1_700_000_000_000 + traceNumber * 1_000 + startMs) * 1e6));
  return {
    traceId: hex(traceNumber, 32), spanId: hex(++nextId, 16), parentSpanId: parent, service, name, kind: parent === undefined ? 'server' : 'client',
    startNs, endNs: startNs + BigInt(durationMs * 1e6), attributes: {}, events: [], links: [], status: error ? 'error' : 'unset', statusMessage: undefined,
  };
}

void test('a request made at the entry outlives any number of polls: the two are kept apart, each with its own bound', () => {
  const store = createTraceStore({ maxTraces: 3, maxBackgroundTraces: 2, isUserRoot: (root) => root.service === 'gateway' });
  // The order's trace, as spans arrive: the callee's first, the entry's root last (it ends last).
  const root = span(1, 'gateway', 'POST /api/v1/orders', { durationMs: 40 });
  store.add([span(1, 'orders', 'POST /v1/orders', { parent: root.spanId, startMs: 2, durationMs: 30 })]);
  assert.equal(store.search({ kind: 'background', limit: 10 }).length, 1, 'background until its root says otherwise');
  store.add([root]);
  // A hundred polls later, the order is still there; only the last two polls are.
  for (let n = 100; n < 200; n++) store.add([span(n, 'notifications', 'GET /events/v1/feed')]);
  const requests = store.search({ kind: 'user', limit: 10 });
  assert.deepEqual(requests.map((t) => [t.root, t.kind, t.spanCount]), [['gateway POST /api/v1/orders', 'user', 2]]);
  assert.deepEqual(store.search({ kind: 'background', limit: 10 }).map((t) => t.traceId), [hex(199, 32), hex(198, 32)]);
  assert.equal(store.traceCount, 3);
  assert.equal(store.waterfall(hex(1, 32))?.spans.length, 2);
  // Past its own bound the oldest request goes.
  for (let n = 2; n <= 4; n++) store.add([span(n, 'gateway', 'GET /api/v1/products')]);
  assert.deepEqual(store.search({ kind: 'user', limit: 10 }).map((t) => t.traceId), [hex(4, 32), hex(3, 32), hex(2, 32)]);
});

void test('search: by service, words of the root, errors and duration, newest first, both kinds unless one is asked for', () => {
  const store = createTraceStore({ isUserRoot: (root) => root.service === 'gateway' });
  const slow = span(1, 'gateway', 'GET /api/v1/products', { durationMs: 900 });
  store.add([span(1, 'inventory', 'GET /v1/products', { parent: slow.spanId, error: true }), slow]);
  store.add([span(2, 'gateway', 'POST /api/v1/orders', { durationMs: 20 })]);
  store.add([span(3, 'users', 'GET /v1/token-revocations')]);
  const ids = (query: Parameters<typeof store.search>[0]) => store.search(query).map((t) => Number.parseInt(t.traceId, 16));
  assert.deepEqual(ids({ limit: 10 }), [3, 2, 1]);
  assert.deepEqual(ids({ service: 'inventory', limit: 10 }), [1]);
  assert.deepEqual(ids({ text: 'orders', limit: 10 }), [2]);
  assert.deepEqual(ids({ text: 'API/V1', limit: 10 }), [2, 1], 'any case');
  assert.deepEqual(ids({ text: hex(2, 32), limit: 10 }), [2], 'a trace id finds its trace');
  assert.deepEqual(ids({ errorsOnly: true, limit: 10 }), [1]);
  assert.deepEqual(ids({ minDurationMs: 100, limit: 10 }), [1]);
  assert.deepEqual(ids({ kind: 'background', limit: 10 }), [3]);
  assert.deepEqual(ids({ limit: 1 }), [3]);
});

void test('without a way to tell requests apart, every trace is one, as before', () => {
  const store = createTraceStore({ maxTraces: 2 });
  for (let n = 1; n <= 3; n++) store.add([span(n, 'users', 'GET /v1/token-revocations')]);
  assert.deepEqual(store.recent(10).map((t) => [Number.parseInt(t.traceId, 16), t.kind]), [[3, 'user'], [2, 'user']]);
});
