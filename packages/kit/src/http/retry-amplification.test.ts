import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { after, afterEach, describe, test } from 'node:test';
import { Code, KitError } from '../errors/index.ts';
import { timeoutHeader } from '../resilience/index.ts';
import { createDeadline, parseBudget } from '../resilience/deadline.ts';
import { createHttpClient } from './http-client.ts';
import type { HttpClient } from './http-client-types.ts';
import { type Upstream, sendJson, sendKitError, startUpstream } from '../testing/index.ts';

// Breakers are set out of reach: these tests count what retries alone do.
const noBreaker = { consecutiveFailures: 1_000_000, minimumRequests: 1_000_000 };

void describe('retries do not multiply across layers', () => {
  const servers: Upstream[] = [];
  const clients: HttpClient[] = [];
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((client) => client.close()));
    await Promise.all(servers.splice(0).map((server) => server.close()));
  });

  // A middle layer: calls the next hop with the kit client (3 attempts) within the budget it
  // received, and answers errors the way the kit's error handler does, or, for the control,
  // the way a handler that drops the no-retry mark would.
  async function startLayer(next: string, propagateNoRetry: boolean): Promise<Upstream> {
    const client = createHttpClient({ name: 'next', urls: [next], retry: { maxAttempts: 3, baseDelayMs: 1 }, breaker: noBreaker });
    clients.push(client);
    const server = await startUpstream(async (req, res: ServerResponse) => {
      const signal = createDeadline(parseBudget(req.headers[timeoutHeader]) ?? 5_000).signal;
      try {
        const { body } = await client.request({ method: 'GET', path: '/work', signal });
        sendJson(res, 200, body);
      } catch (thrown) {
        const error = KitError.from(thrown);
        sendKitError(res, propagateNoRetry ? error : new KitError(error.code, error.message));
      }
    });
    servers.push(server);
    return server;
  }

  async function leafHitsForOneRequest(propagateNoRetry: boolean): Promise<number> {
    const leaf = await startUpstream((_req, res) => sendJson(res, 503, { down: true }));
    servers.push(leaf);
    const c = await startLayer(leaf.url, propagateNoRetry);
    const b = await startLayer(c.url, propagateNoRetry);
    const a = await startLayer(b.url, propagateNoRetry);
    const user = createHttpClient({ name: 'a', urls: [a.url], retry: { maxAttempts: 1 } });
    clients.push(user);
    await assert.rejects(user.request({ method: 'GET', path: '/work', signal: AbortSignal.timeout(5_000) }), { code: Code.Unavailable });
    return leaf.hits;
  }

  void test('a failing leaf behind A → B → C sees at most 3 attempts for one request', async () => {
    const hits = await leafHitsForOneRequest(true);
    assert.ok(hits <= 3, `the leaf saw ${hits} attempts`);
    assert.ok(hits >= 1);
  });

  void test('control: without the no-retry mark the same stack makes 27 attempts', async () => {
    assert.equal(await leafHitsForOneRequest(false), 27);
  });
});

void describe('the retry budget', () => {
  let upstream: Upstream;
  after(() => upstream.close());

  void test('caps retries under sustained failure: 500 calls to an always-503 upstream stay near 500 × 1.1 attempts', async () => {
    upstream = await startUpstream((_req, res) => sendJson(res, 503, { down: true }));
    const ratio = 0.1;
    const minRetriesPerSecond = 10;
    const windowMs = 10_000;
    const client = createHttpClient({
      name: 'down',
      urls: [upstream.url],
      retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 2 },
      retryBudget: { ratio, minRetriesPerSecond, windowMs },
      breaker: noBreaker,
    });
    try {
      const calls = 500;
      let next = 0;
      await Promise.all(Array.from({ length: 10 }, async () => {
        while (next < calls) {
          next++;
          await assert.rejects(client.request({ method: 'GET', path: '/x', signal: AbortSignal.timeout(5_000) }), { code: Code.Unavailable });
        }
      }));
      const floor = minRetriesPerSecond * (windowMs / 1_000);
      assert.ok(upstream.hits <= calls * (1 + ratio) + floor, `${upstream.hits} attempts for ${calls} calls`);
      assert.ok(upstream.hits > calls, 'some retries should have been allowed');
      assert.equal(client.stats().retries, upstream.hits - calls);
    } finally {
      await client.close();
    }
  });
});
