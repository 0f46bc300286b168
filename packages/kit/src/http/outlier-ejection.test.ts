import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { HttpClientEvent } from '../upstream/events.ts';
import { createHttpClient } from './http-client.ts';
import { createOutlierDetector } from '../upstream/outlier-detection.ts';
import { type Upstream, delayUnlessClosed, refusedUrl, sendJson, startUpstream, createFakeClock } from '../testing/index.ts';

// Breakers out of reach: these tests show what ejection alone does.
const noBreaker = { consecutiveFailures: 1_000_000, minimumRequests: 1_000_000 };

void describe('a failing instance is ejected and its peer takes the traffic', () => {
  let good: Upstream;
  let bad: Upstream;
  before(async () => {
    good = await startUpstream((_req, res) => sendJson(res, 200, { ok: true }));
    bad = await startUpstream((_req, res) => sendJson(res, 503, { down: true }));
  });
  after(async () => {
    await good.close();
    await bad.close();
  });

  for (const failure of ['503', 'connection refused'] as const) {
    void test(`one of two instances fails (${failure}): 200 calls all succeed, the bad one sees few`, async () => {
      const badUrl = failure === '503' ? bad.url : await refusedUrl();
      const badHitsBefore = bad.hits;
      const events: HttpClientEvent[] = [];
      const client = createHttpClient({
        name: 'catalog',
        urls: [good.url, badUrl],
        retry: { maxAttempts: 3, baseDelayMs: 1 },
        breaker: noBreaker,
        // Calls alone: the bad server's hits are compared with the attempts sent to it, and a
        // health check (each instance's `/readyz`, once a second with two) would be a hit too.
        healthCheck: false,
        onEvent: (event) => events.push(event),
      });
      try {
        let succeeded = 0;
        let next = 0;
        await Promise.all(Array.from({ length: 4 }, async () => {
          while (next < 200) {
            next++;
            const response = await client.request({ method: 'GET', path: '/p', signal: AbortSignal.timeout(5_000) });
            if (response.status === 200) succeeded++;
          }
        }));
        assert.equal(succeeded, 200);
        const badAttempts = events.filter((event) => event.type === 'attempt_start' && event.instance === badUrl).length;
        assert.ok(badAttempts <= 10, `the bad instance got ${badAttempts} attempts`);
        if (failure === '503') assert.equal(bad.hits - badHitsBefore, badAttempts);
        const ejections = events.filter((event) => event.type === 'ejection');
        assert.equal(ejections.length, 1);
        assert.equal(ejections[0]?.type === 'ejection' && ejections[0].instance, badUrl);
        assert.equal(client.stats().instances.find((i) => i.instance === badUrl)?.ejected, true);
      } finally {
        await client.close();
      }
    });
  }

  void test('an instance that never answers (a partition: no reset, no refusal) is left alone once an attempt waits out the client\'s timeout, and timeouts in a row eject it; a caller that leaves does neither', async (t) => {
    const silent = await startUpstream(async (_req, res) => { await delayUnlessClosed(res, 60_000); });
    const silentToo = await startUpstream(async (_req, res) => { await delayUnlessClosed(res, 60_000); });
    t.after(() => silent.close());
    t.after(() => silentToo.close());
    const events: HttpClientEvent[] = [];
    const client = createHttpClient({ name: 'partitioned', urls: [good.url, silent.url], retry: { maxAttempts: 1 }, breaker: noBreaker, timeoutMs: 100, onEvent: (event) => events.push(event) });
    t.after(() => client.close());
    let succeeded = 0;
    for (let i = 0; i < 60; i++) {
      const answer = await client.request({ method: 'GET', path: '/p', signal: AbortSignal.timeout(5_000) }).catch(() => undefined);
      if (answer?.status === 200) succeeded++;
    }
    // The attempt that timed out made the silent one look as slow as it is: the balancer goes elsewhere.
    const silentAttempts = events.filter((event) => event.type === 'attempt_start' && event.instance === silent.url).length;
    assert.ok(silentAttempts <= 3, `the silent instance got ${silentAttempts} attempts of 60`);
    assert.equal(succeeded, 60 - silentAttempts);

    // Two silent instances: every attempt waits out the timeout, and five in a row eject one.
    const bothSilent = createHttpClient({ name: 'both-silent', urls: [silent.url, silentToo.url], retry: { maxAttempts: 1 }, breaker: noBreaker, timeoutMs: 50, onEvent: (event) => events.push(event) });
    t.after(() => bothSilent.close());
    for (let i = 0; i < 14; i++) await assert.rejects(bothSilent.request({ method: 'GET', path: '/p', signal: AbortSignal.timeout(5_000) }));
    assert.equal(events.filter((event) => event.type === 'ejection').length, 1, 'timeouts in a row eject an instance (half of two at most)');

    // The caller leaving (its own signal, long before this client's timeout) says nothing of the instances.
    const patient = createHttpClient({ name: 'patient', urls: [silent.url, silentToo.url], retry: { maxAttempts: 1 }, breaker: noBreaker, timeoutMs: 10_000, onEvent: (event) => events.push(event) });
    t.after(() => patient.close());
    for (let i = 0; i < 12; i++) await assert.rejects(patient.request({ method: 'GET', path: '/p', signal: AbortSignal.timeout(50) }));
    assert.equal(events.filter((event) => event.type === 'ejection').length, 1, 'no instance ejected for callers that left');
  });

  void test('a single instance is never ejected: half of one is none', async () => {
    const events: HttpClientEvent[] = [];
    const client = createHttpClient({ name: 'alone', urls: [bad.url], retry: { maxAttempts: 1 }, breaker: noBreaker, onEvent: (event) => events.push(event) });
    try {
      const hitsBefore = bad.hits;
      for (let i = 0; i < 12; i++) await assert.rejects(client.request({ method: 'GET', path: '/p', signal: AbortSignal.timeout(2_000) }));
      assert.equal(bad.hits - hitsBefore, 12);
      assert.equal(events.some((event) => event.type === 'ejection'), false);
    } finally {
      await client.close();
    }
  });
});

void describe('createOutlierDetector', () => {
  void test('ejects after N failures in a row, for longer each time, never more than half of the instances', () => {
    const clock = createFakeClock();
    const outliers = createOutlierDetector({ consecutiveFailures: 3, baseEjectionMs: 10_000, maxEjectionPercent: 50, clock });
    const failTimes = (instance: string, n: number) => {
      let ejection;
      for (let i = 0; i < n; i++) ejection = outliers.record(instance, 'failure', 4) ?? ejection;
      return ejection;
    };
    assert.equal(failTimes('a', 2), undefined);
    assert.equal(outliers.record('a', 'success', 4), undefined);
    assert.equal(failTimes('a', 2), undefined, 'a success resets the count');
    assert.deepEqual(failTimes('a', 1), { instance: 'a', durationMs: 10_000, ejections: 1 });
    assert.equal(outliers.isEjected('a'), true);
    assert.equal(failTimes('b', 3)?.instance, 'b');
    assert.equal(failTimes('c', 5), undefined, 'two of four are out: the third stays');
    assert.equal(outliers.isEjected('c'), false);
    return (async () => {
      await clock.advance(10_000);
      assert.equal(outliers.isEjected('a'), false);
      assert.deepEqual(failTimes('a', 3), { instance: 'a', durationMs: 20_000, ejections: 2 }, 'ejected again at once: twice as long');
      await clock.advance(20_000 + 30_000);
      assert.deepEqual(failTimes('a', 3), { instance: 'a', durationMs: 10_000, ejections: 1 }, 'three quiet periods later the count has decayed');
    })();
  });
});
