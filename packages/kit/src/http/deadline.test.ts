import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Code, KitError } from '../errors/index.ts';
import { timeoutHeader } from '../resilience/index.ts';
import { createDeadline } from '../resilience/deadline.ts';
import { createHttpClient } from './http-client.ts';
import { type Upstream, delayUnlessClosed, eventually, sendJson, startUpstream } from '../testing/index.ts';

void describe('the caller\'s deadline and cancellation', () => {
  let slow: Upstream;
  let closedBeforeAnswer: Promise<void>;
  let markClosed: () => void;

  before(async () => {
    slow = await startUpstream(async (_req, res) => {
      res.once('close', () => {
        if (!res.writableFinished) markClosed();
      });
      await delayUnlessClosed(res, 5_000);
      if (!res.destroyed) sendJson(res, 200, { late: true });
    });
  });
  after(() => slow.close());

  void test('a 1 s deadline against a 5 s upstream: deadline_exceeded in time, the upstream sees the abort and got the budget', async () => {
    closedBeforeAnswer = new Promise<void>((resolve) => {
      markClosed = resolve;
    });
    const client = createHttpClient({ name: 'slow', urls: [slow.url], timeoutMs: 10_000 });
    try {
      const startedAt = performance.now();
      const error = await client.request({ method: 'GET', path: '/slow', signal: createDeadline(1_000).signal }).then(
        () => assert.fail('the call should not succeed'),
        (thrown: unknown) => thrown,
      );
      const elapsedMs = performance.now() - startedAt;
      assert.ok(error instanceof KitError);
      assert.equal(error.code, Code.DeadlineExceeded);
      assert.ok(elapsedMs < 1_500, `rejected after ${elapsedMs} ms`);

      // The upstream's response closed unfinished: the abort reached it, it did not run 5 s.
      const observed = await Promise.race([closedBeforeAnswer.then(() => true), new Promise((resolve) => setTimeout(resolve, 1_000, false))]);
      assert.equal(observed, true, 'the upstream never saw the request aborted');

      const budget = Number(slow.received.at(-1)?.[timeoutHeader]);
      assert.ok(Number.isInteger(budget) && budget <= 1_000 && budget > 500, `received budget ${budget}`);
    } finally {
      await client.close();
    }
  });

  void test('without a deadline on the signal, the client\'s own timeout bounds the call and is what is sent', async () => {
    const client = createHttpClient({ name: 'slow', urls: [slow.url], timeoutMs: 300 });
    try {
      await assert.rejects(client.request({ method: 'POST', path: '/slow', signal: new AbortController().signal }), { code: Code.DeadlineExceeded });
      const budget = Number(slow.received.at(-1)?.[timeoutHeader]);
      assert.ok(budget <= 300 && budget > 200, `received budget ${budget}`);
    } finally {
      await client.close();
    }
  });

  void test('AbortSignal.timeout counts as a deadline; a plain abort is a cancellation', async () => {
    const client = createHttpClient({ name: 'slow', urls: [slow.url] });
    try {
      await assert.rejects(client.request({ method: 'POST', path: '/slow', signal: AbortSignal.timeout(100) }), { code: Code.DeadlineExceeded });
      const controller = new AbortController();
      const call = client.request({ method: 'POST', path: '/slow', signal: controller.signal });
      setTimeout(() => controller.abort(), 100);
      await assert.rejects(call, { code: Code.Canceled });
      const hitsBefore = slow.hits;
      await assert.rejects(client.request({ method: 'POST', path: '/slow', signal: AbortSignal.abort() }), { code: Code.Canceled });
      assert.equal(slow.hits, hitsBefore, 'an already aborted call must not be sent');
      assert.ok(await eventually(() => client.stats().instances.every((i) => i.outstanding === 0)));
    } finally {
      await client.close();
    }
  });

  void test('x-request-id and Idempotency-Key are sent as given', async () => {
    const echo = await startUpstream((_req, res) => sendJson(res, 200, { ok: true }));
    const client = createHttpClient({ name: 'echo', urls: [echo.url] });
    try {
      const response = await client.request<{ ok: boolean }>({
        method: 'POST', path: '/orders', body: { sku: 'A' }, requestId: 'req-42', idempotencyKey: 'key-7', signal: AbortSignal.timeout(2_000),
        headers: { 'X-Request-Id': 'overridden-by-the-option' },
      });
      assert.deepEqual(response.body, { ok: true });
      const headers = echo.received[0];
      assert.equal(headers?.['x-request-id'], 'req-42');
      assert.equal(headers?.['idempotency-key'], 'key-7');
      assert.equal(headers?.['content-type'], 'application/json');
    } finally {
      await client.close();
      await echo.close();
    }
  });
});
