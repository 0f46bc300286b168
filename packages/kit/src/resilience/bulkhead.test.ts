import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Code, KitError } from '../errors/index.ts';
import { createBulkhead } from './bulkhead.ts';

async function settle<T>(promise: Promise<T>): Promise<unknown> {
  return promise.then((value) => value, (error: unknown) => error);
}

// Lets a test decide when each call ends.
function gate() {
  const { promise, resolve } = Promise.withResolvers<void>();
  return { wait: () => promise, open: () => resolve() };
}

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

// The outcome of a call that must already have ended; a call still waiting fails the test.
async function endedAtOnce<T>(promise: Promise<T>): Promise<unknown> {
  const waiting = Symbol('still waiting');
  const outcome = await Promise.race([settle(promise), tick().then(() => waiting)]);
  assert.notEqual(outcome, waiting, 'the call should have ended at once');
  return outcome;
}

void test('past maxConcurrent calls queue, and past maxQueue they are rejected at once', async () => {
  let rejected = 0;
  const bulkhead = createBulkhead({ maxConcurrent: 2, maxQueue: 1, onReject: () => rejected++ });
  const g = gate();
  const calls = [bulkhead.execute(g.wait), bulkhead.execute(g.wait), bulkhead.execute(g.wait)];
  await tick();
  assert.equal(bulkhead.running, 2);
  assert.equal(bulkhead.queued, 1);

  let called = false;
  const error = await endedAtOnce(bulkhead.execute(async () => {
    called = true;
  }));
  assert.equal(called, false);
  assert.ok(error instanceof KitError);
  assert.equal(error.code, Code.Unavailable);
  assert.equal(error.reason, 'bulkhead_full');
  assert.equal(error.retryAfterSeconds, 1);
  assert.equal(rejected, 1);

  g.open();
  await Promise.all(calls);
  assert.equal(bulkhead.running, 0);
  assert.equal(bulkhead.queued, 0);
});

void test('queued calls start in the order they arrived', async () => {
  const bulkhead = createBulkhead({ maxConcurrent: 1, maxQueue: 10 });
  const started: string[] = [];
  const gates = new Map<string, ReturnType<typeof gate>>();
  const calls = ['a', 'b', 'c', 'd'].map((name) => {
    const g = gate();
    gates.set(name, g);
    return bulkhead.execute(async () => {
      started.push(name);
      await g.wait();
    });
  });
  await tick();
  assert.deepEqual(started, ['a']);
  for (const name of ['a', 'b', 'c']) {
    gates.get(name)?.open();
    await tick();
  }
  assert.deepEqual(started, ['a', 'b', 'c', 'd']);
  gates.get('d')?.open();
  await Promise.all(calls);
});

void test('a newcomer does not overtake the queue when a slot frees', async () => {
  const bulkhead = createBulkhead({ maxConcurrent: 1, maxQueue: 10 });
  const started: string[] = [];
  const first = gate();
  const running = bulkhead.execute(async () => {
    started.push('first');
    await first.wait();
  });
  const queued = bulkhead.execute(async () => {
    started.push('queued');
  });
  await tick();
  first.open();
  const newcomer = bulkhead.execute(async () => {
    started.push('newcomer');
  });
  await Promise.all([running, queued, newcomer]);
  assert.deepEqual(started, ['first', 'queued', 'newcomer']);
});

void test('a queued call whose signal aborts leaves the queue at once and never runs', async () => {
  const bulkhead = createBulkhead({ maxConcurrent: 1, maxQueue: 2 });
  const g = gate();
  const running = bulkhead.execute(g.wait);
  const caller = new AbortController();
  let abortedRan = false;
  const aborted = settle(bulkhead.execute(async () => {
    abortedRan = true;
  }, caller.signal));
  const later = bulkhead.execute(async () => 'later');
  await tick();
  assert.equal(bulkhead.queued, 2);

  const reason = new KitError(Code.Canceled, 'the caller went away');
  caller.abort(reason);
  assert.equal(await endedAtOnce(aborted), reason);
  assert.equal(bulkhead.queued, 1);

  g.open();
  assert.equal(await later, 'later');
  await running;
  assert.equal(abortedRan, false);
  assert.equal(bulkhead.running, 0);
});

void test('a failing call frees its slot and comes out as a KitError', async () => {
  const bulkhead = createBulkhead({ maxConcurrent: 1, maxQueue: 0 });
  const error = await settle(bulkhead.execute(async () => {
    throw new Error('boom');
  }));
  assert.ok(error instanceof KitError && error.code === Code.Internal);
  assert.equal(bulkhead.running, 0);
  assert.equal(await bulkhead.execute(async () => 'free again'), 'free again');
});
