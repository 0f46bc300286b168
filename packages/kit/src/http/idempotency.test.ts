import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { Code } from '../errors/index.ts';
import { createHttpClient } from './http-client.ts';
import type { HttpClient } from './http-client-types.ts';
import { isRead, isRepeatable } from './idempotency.ts';
import { type Upstream, refusedUrl, sendJson, startUpstream } from '../testing/index.ts';

void describe('only repeatable requests are retried', () => {
  let upstream: Upstream;
  let client: HttpClient;

  before(async () => {
    upstream = await startUpstream((_req, res) => sendJson(res, 503, { down: true }));
    client = createHttpClient({
      name: 'orders',
      urls: [upstream.url],
      retry: { maxAttempts: 3, baseDelayMs: 1 },
      breaker: { consecutiveFailures: 1_000, minimumRequests: 1_000 },
    });
  });
  beforeEach(() => {
    upstream.hits = 0;
    upstream.received.length = 0;
  });
  after(async () => {
    await client.close();
    await upstream.close();
  });

  void test('a POST without an idempotency key is sent once', async () => {
    await assert.rejects(client.request({ method: 'POST', path: '/orders', body: { sku: 'A' }, signal: AbortSignal.timeout(2_000) }), { code: Code.Unavailable });
    assert.equal(upstream.hits, 1);
  });

  void test('a POST with an idempotency key is retried, with the same key each time', async () => {
    await assert.rejects(client.request({ method: 'POST', path: '/orders', body: { sku: 'A' }, idempotencyKey: 'k-1', signal: AbortSignal.timeout(2_000) }), { code: Code.Unavailable });
    assert.equal(upstream.hits, 3);
    assert.deepEqual(upstream.received.map((headers) => headers['idempotency-key']), ['k-1', 'k-1', 'k-1']);
  });

  void test('a key given as a header counts too; a GET and a PUT are retried', async () => {
    await assert.rejects(client.request({ method: 'PATCH', path: '/orders/1', headers: { 'Idempotency-Key': 'k-2' }, signal: AbortSignal.timeout(2_000) }));
    assert.equal(upstream.hits, 3);
    await assert.rejects(client.request({ method: 'GET', path: '/orders/1', signal: AbortSignal.timeout(2_000) }));
    await assert.rejects(client.request({ method: 'PUT', path: '/orders/1', body: {}, signal: AbortSignal.timeout(2_000) }));
    assert.equal(upstream.hits, 9);
  });

  void test('a POST without a key is tried again only when the upstream never got it: a refused connection, not a reset one', async () => {
    const events: string[] = [];
    const refused = createHttpClient({ name: 'nobody', urls: [await refusedUrl()], retry: { baseDelayMs: 1 }, onEvent: (event) => events.push(event.type) });
    try {
      await assert.rejects(refused.request({ method: 'POST', path: '/x', signal: AbortSignal.timeout(300) }), { code: Code.Unavailable, reason: 'connection_refused' });
      assert.ok(events.filter((type) => type === 'attempt_start').length > 1, 'a refused connection carried nothing: trying again is safe');
    } finally {
      await refused.close();
    }
    const cut = await startUpstream((_req, res) => { res.socket?.destroy(); });
    const resetEvents: string[] = [];
    const reset = createHttpClient({ name: 'cut', urls: [cut.url], retry: { baseDelayMs: 1 }, onEvent: (event) => resetEvents.push(event.type) });
    try {
      await assert.rejects(reset.request({ method: 'POST', path: '/x', signal: AbortSignal.timeout(2_000) }), { code: Code.Unavailable, reason: 'connection_reset' });
      assert.equal(cut.hits, 1, 'the request arrived, and may have been acted on: it is not sent again');
      assert.equal(resetEvents.includes('retry'), false);
    } finally {
      await reset.close();
      await cut.close();
    }
  });
});

void describe('isRepeatable and isRead', () => {
  void test('idempotent methods, or a key; reads only for hedging', () => {
    for (const method of ['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE'] as const) assert.equal(isRepeatable(method, undefined), true, method);
    assert.equal(isRepeatable('POST', undefined), false);
    assert.equal(isRepeatable('POST', ''), false);
    assert.equal(isRepeatable('PATCH', 'k'), true);
    assert.equal(isRead('GET'), true);
    assert.equal(isRead('PUT'), false);
  });
});
