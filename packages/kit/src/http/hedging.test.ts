import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createRoundRobin } from '../upstream/balancer.ts';
import type { HttpClientEvent } from '../upstream/events.ts';
import { createHttpClient } from './http-client.ts';
import type { HttpRequest } from './http-client-types.ts';
import { createLatencyTracker } from '../upstream/latency-tracker.ts';
import { type Upstream, delayUnlessClosed, eventually, sendJson, startUpstream } from '../testing/index.ts';

const calls = 40;
const slowClassMs = 150;

void describe('hedging against one slow replica', () => {
  let slow: Upstream;
  let fast: Upstream;
  before(async () => {
    slow = await startUpstream(async (_req, res) => {
      await delayUnlessClosed(res, 200);
      if (!res.destroyed) sendJson(res, 200, { from: 'slow' });
    });
    fast = await startUpstream(async (_req, res) => {
      await delayUnlessClosed(res, 5);
      if (!res.destroyed) sendJson(res, 200, { from: 'fast' });
    });
  });
  after(async () => {
    await slow.close();
    await fast.close();
  });

  // Runs the calls one after another and sorts them into latency classes; nothing here asserts
  // a wall time, only how many calls fell into the slow class.
  async function slowCalls(hedge: HttpRequest['hedge']): Promise<{ slowCount: number; hedges: number; events: HttpClientEvent[] }> {
    const events: HttpClientEvent[] = [];
    // Round robin puts half of the first attempts on the slow replica, as a balancer blind to
    // its latency would (or many clients each balancing on little information).
    const client = createHttpClient({ name: 'catalog', urls: [slow.url, fast.url], balancer: createRoundRobin(), onEvent: (event) => events.push(event) });
    try {
      let slowCount = 0;
      let started = 0;
      // Four at a time, to keep the test short; round robin still alternates.
      await Promise.all(Array.from({ length: 4 }, async () => {
        while (started < calls) {
          started++;
          const startedAt = performance.now();
          const response = await client.request<{ from: string }>({ method: 'GET', path: '/product', signal: AbortSignal.timeout(5_000), hedge });
          assert.equal(response.status, 200);
          if (performance.now() - startedAt >= slowClassMs) slowCount++;
        }
      }));
      return { slowCount, hedges: client.stats().hedges, events };
    } finally {
      await client.close();
    }
  }

  void test('with hedging the slow class (almost) empties; the slow replica sees its hedged-away requests aborted', async () => {
    const unhedged = await slowCalls(false);
    assert.equal(unhedged.hedges, 0);
    assert.ok(unhedged.slowCount >= calls / 4, `without hedging ${unhedged.slowCount} of ${calls} calls were slow`);

    const slowBefore = { hits: slow.hits, aborted: slow.aborted, finished: slow.finished };
    const hedged = await slowCalls({ delayMs: 20 });
    // Under a loaded machine a fast answer can be late too, hence a little room.
    assert.ok(hedged.slowCount <= calls / 10, `with hedging ${hedged.slowCount} of ${calls} calls were slow`);
    assert.ok(hedged.slowCount < unhedged.slowCount / 3, `${hedged.slowCount} slow calls with hedging, ${unhedged.slowCount} without`);
    assert.ok(hedged.hedges >= calls / 4, `${hedged.hedges} hedges`);
    assert.equal(hedged.events.filter((event) => event.type === 'hedge').length, hedged.hedges);

    // Every request the slow replica received was either the winner of its call or aborted by
    // the client: none of the hedged-away ones ran its 200 ms to the end.
    const wonOnSlow = hedged.events.filter((event) => event.type === 'attempt_end' && event.instance === slow.url && event.outcome === 'ok').length;
    const received = slow.hits - slowBefore.hits;
    const settled = await eventually(() => slow.aborted - slowBefore.aborted + slow.finished - slowBefore.finished === received);
    assert.ok(settled, 'some request to the slow replica is still open');
    assert.equal(slow.finished - slowBefore.finished, wonOnSlow);
    assert.ok(slow.aborted - slowBefore.aborted >= hedged.hedges / 2, `the slow replica saw ${slow.aborted - slowBefore.aborted} aborts for ${hedged.hedges} hedges`);
  });

  void test('a hedge goes to another instance than its first copy', async () => {
    const events: HttpClientEvent[] = [];
    const client = createHttpClient({ name: 'catalog', urls: [slow.url, fast.url], onEvent: (event) => events.push(event) });
    try {
      // One call at a time, so each call's attempts are next to each other in the events.
      for (let i = 0; i < 10; i++) await client.request({ method: 'GET', path: '/p', signal: AbortSignal.timeout(5_000), hedge: { delayMs: 0 } });
      const starts = events.flatMap((event) => (event.type === 'attempt_start' ? [event] : []));
      const pairs = starts.flatMap((start, i) => (start.hedge ? [[starts[i - 1]?.instance, start.instance]] : []));
      assert.ok(pairs.length >= 1);
      for (const [first, second] of pairs) assert.notEqual(first, second);
    } finally {
      await client.close();
    }
  });

  void test('a POST is never hedged, even when asked', async () => {
    const events: HttpClientEvent[] = [];
    const client = createHttpClient({ name: 'catalog', urls: [slow.url, fast.url], balancer: createRoundRobin(), onEvent: (event) => events.push(event) });
    try {
      await client.request({ method: 'POST', path: '/orders', body: {}, idempotencyKey: 'k', signal: AbortSignal.timeout(5_000), hedge: { delayMs: 1 } });
      await client.request({ method: 'POST', path: '/orders', body: {}, idempotencyKey: 'k', signal: AbortSignal.timeout(5_000), hedge: { delayMs: 1 } });
      assert.equal(events.filter((event) => event.type === 'hedge').length, 0);
    } finally {
      await client.close();
    }
  });

  void test('with hedge: true the delay is the observed p95 (with a floor), and nothing hedges before there is data', async () => {
    // Fast for ordinary calls; a call marked `tail=1` is the rare slow one hedging is for.
    const jittery = await startUpstream(async (req, res) => {
      await delayUnlessClosed(res, req.url?.includes('tail=1') === true ? 1_000 : 5);
      if (!res.destroyed) sendJson(res, 200, { from: 'jittery' });
    });
    const events: HttpClientEvent[] = [];
    const client = createHttpClient({ name: 'catalog', urls: [jittery.url, fast.url], balancer: createRoundRobin(), hedging: { minDelayMs: 10 }, onEvent: (event) => events.push(event) });
    const call = (tail: boolean) => client.request({ method: 'GET', path: '/p', query: { tail: tail ? 1 : undefined }, signal: AbortSignal.timeout(5_000), hedge: true });
    try {
      // Before 20 answers the latency is unknown: even a tail call is not hedged.
      const startedAt = performance.now();
      await call(true);
      assert.ok(performance.now() - startedAt >= slowClassMs, 'the first tail call landed on the jittery instance and waited');
      // Calls 2 to 20 each start with fewer than 20 answers known: none may hedge, however slow.
      for (let i = 0; i < 19; i++) await call(false);
      assert.equal(events.filter((event) => event.type === 'hedge').length, 0);
      // More data for the p95. From here a fast call that happens to be slow may hedge too.
      for (let i = 0; i < 6; i++) await call(false);

      let slowCount = 0;
      for (let i = 0; i < 4; i++) {
        const tailStartedAt = performance.now();
        await call(true);
        // The tail takes a second; a hedged call takes the hedge delay and a fast answer.
        if (performance.now() - tailStartedAt >= 500) slowCount++;
      }
      const hedges = events.flatMap((event) => (event.type === 'hedge' ? [event.delayMs] : []));
      assert.ok(hedges.length >= 1, 'a tail call on the jittery instance should have been hedged');
      assert.equal(slowCount, 0);
      // p95 of ~26 answers of about 5 ms and one of a second: near the 10 ms floor, far below the tail.
      for (const delayMs of hedges) assert.ok(delayMs >= 10 && delayMs < 300, `hedged after ${delayMs} ms`);
    } finally {
      await client.close();
      await jittery.close();
    }
  });
});

void describe('createLatencyTracker', () => {
  void test('gives a quantile of the recent samples, and none before it has enough', () => {
    const tracker = createLatencyTracker({ size: 100, minSamples: 20 });
    for (let i = 1; i <= 19; i++) tracker.record(i);
    assert.equal(tracker.quantile(0.95), undefined);
    for (let i = 20; i <= 100; i++) tracker.record(i);
    assert.equal(tracker.quantile(0.95), 95);
    assert.equal(tracker.quantile(0.5), 50);
    // The oldest samples fall out: 100 new ones of 1000.
    for (let i = 0; i < 100; i++) tracker.record(1_000);
    assert.equal(tracker.quantile(0.5), 1_000);
    assert.equal(tracker.count, 100);
  });
});
