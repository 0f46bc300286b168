import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import Fastify, { type FastifyInstance } from 'fastify';
import { KitError } from '../errors/index.ts';
import { timeoutHeader } from '../resilience/index.ts';
import { installErrorHandling } from './error-handler.ts';
import { installRequestLifecycle } from './request-lifecycle.ts';
import { signalOf } from './request-signal.ts';

interface Seen { started: number; aborted: Array<string | undefined> }

async function appWithDeadlines(t: { after(fn: () => unknown): void }): Promise<{ base: string; seen: Seen; app: FastifyInstance }> {
  const app = Fastify();
  installErrorHandling(app);
  installRequestLifecycle(app, { deadline: { defaultDeadlineMs: 2_000, service: 'testsvc', answerGraceMs: 20 } });
  const seen: Seen = { started: 0, aborted: [] };
  const work = async (signal: AbortSignal, ms: number) => {
    seen.started += 1;
    try {
      await sleep(ms, undefined, { signal });
      return { done: true };
    } catch (error) {
      const reason = signal.reason instanceof KitError ? signal.reason.code : undefined;
      seen.aborted.push(reason);
      throw error instanceof Error && error.name === 'AbortError' ? signal.reason : error;
    }
  };
  app.get('/work', async (request) => work(signalOf(request), Number((request.query as { ms?: string }).ms ?? 5_000)));
  app.get('/short-route', { config: { deadlineMs: 100 } }, async (request) => work(signalOf(request), 5_000));
  app.get('/ignores-signal', async () => {
    seen.started += 1;
    await sleep(1_000);
    return { done: true };
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  t.after(() => app.close());
  return { base: `http://127.0.0.1:${(app.server.address() as { port: number }).port}`, seen, app };
}

// The rules (budget, cap, spent, overdue, caller gone) are tested once, in inbound-deadline.test.ts;
// these test what the HTTP adapter adds: the header, the route's cap, the answers, the socket.

void test('x-baton-timeout-ms becomes the request\'s deadline: 504 naming the hop, and the work is aborted', async (t) => {
  const { base, seen } = await appWithDeadlines(t);
  const res = await fetch(`${base}/work?ms=5000`, { headers: { [timeoutHeader]: '100' } });
  assert.equal(res.status, 504);
  const problem = await res.json() as { code: string; hop: string };
  assert.equal(problem.code, 'deadline_exceeded');
  assert.equal(problem.hop, 'testsvc');
  assert.deepEqual(seen.aborted, ['deadline_exceeded']);
});

void test('a budget already spent on arrival is a 408 deadline_spent (the caller\'s doing, not a 5xx), without running the handler', async (t) => {
  const { base, seen } = await appWithDeadlines(t);
  const res = await fetch(`${base}/work?ms=10`, { headers: { [timeoutHeader]: '0' } });
  assert.equal(res.status, 408);
  assert.equal(((await res.json()) as { reason: string }).reason, 'deadline_spent');
  assert.equal(seen.started, 0);
});

void test('the route\'s own config.deadlineMs caps a longer budget from the caller', async (t) => {
  const { base } = await appWithDeadlines(t);
  assert.equal((await fetch(`${base}/short-route`, { headers: { [timeoutHeader]: '60000' } })).status, 504);
});

void test('a handler that ignores its signal is still answered 504 shortly after the deadline', async (t) => {
  const { base } = await appWithDeadlines(t);
  const res = await fetch(`${base}/ignores-signal`, { headers: { [timeoutHeader]: '100' } });
  assert.equal(res.status, 504);
});

void test('a caller that disconnects before the answer cancels the work', async (t) => {
  const { base, seen } = await appWithDeadlines(t);
  const caller = new AbortController();
  const pending = fetch(`${base}/work?ms=5000`, { signal: caller.signal });
  while (seen.started === 0) await sleep(5);
  caller.abort();
  await assert.rejects(pending);
  for (let i = 0; i < 200 && seen.aborted.length === 0; i++) await sleep(5);
  assert.deepEqual(seen.aborted, ['canceled']);
});
