import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Code, KitError } from '../errors/index.ts';
import { type FakeClock, createFakeClock } from '../testing/index.ts';
import { attachDeadline, createDeadline } from './deadline.ts';
import { wrap } from './policy.ts';
import { isRetriesExhausted, markRetriesExhausted } from './retries-exhausted.ts';
import { type GiveUpEvent, type RetryEvent, createRetry, isRetryable } from './retry.ts';
import { createRetryBudget } from './retry-budget.ts';

const unavailable = () => new KitError(Code.Unavailable, 'upstream down');

// A leaf that always fails and records the clock time of each call.
function failingLeaf(clock: { now(): number }, error: () => KitError = unavailable) {
  const callTimes: number[] = [];
  return {
    callTimes,
    fn: async () => {
      callTimes.push(clock.now());
      throw error();
    },
  };
}

async function settle<T>(promise: Promise<T>): Promise<unknown> {
  return promise.then((value) => value, (error: unknown) => error);
}

// Moves the fake clock until the call ends, so a policy that waits too long fails the test
// instead of hanging it.
async function finish<T>(clock: FakeClock, promise: Promise<T>, maxMs = 600_000): Promise<unknown> {
  let done = false;
  const outcome = settle(promise).finally(() => {
    done = true;
  });
  for (let waitedMs = 0; !done && waitedMs < maxMs; waitedMs += 1_000) await clock.advance(1_000);
  assert.ok(done, 'the call never ended');
  return outcome;
}

void test('backoff is exponential with full jitter: random × min(max, base × 2^(attempt−1))', async () => {
  const clock = createFakeClock();
  const delays: number[] = [];
  const leaf = failingLeaf(clock);
  const retry = createRetry({
    maxAttempts: 6, baseDelayMs: 100, maxDelayMs: 1_000, clock, random: () => 0.5,
    onRetry: (event: RetryEvent) => delays.push(event.delayMs),
  });
  assert.ok(isRetriesExhausted(await finish(clock, retry.execute(leaf.fn))));
  assert.deepEqual(delays, [50, 100, 200, 400, 500]);
  // The waits really happened on the clock, one after the other.
  assert.deepEqual(leaf.callTimes, [0, 50, 150, 350, 750, 1_250]);
});

void test('jitter stays within [0, cap): the extreme randoms give 0 and just under the cap', async () => {
  for (const [random, expected] of [[0, [0, 0, 0]], [0.999, [99.9, 199.8, 399.6]]] as const) {
    const clock = createFakeClock();
    const delays: number[] = [];
    const retry = createRetry({ maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 400, clock, random: () => random, onRetry: (e) => delays.push(e.delayMs) });
    await finish(clock, retry.execute(failingLeaf(clock).fn));
    assert.deepEqual(delays.map((d) => Math.round(d * 10) / 10), expected);
  }
});

void test('Retry-After is a floor on the wait', async () => {
  const clock = createFakeClock();
  const leaf = failingLeaf(clock, () => new KitError(Code.Unavailable, 'busy', { retryAfterSeconds: 2 }));
  const retry = createRetry({ maxAttempts: 2, clock, random: () => 0 });
  const outcome = settle(retry.execute(leaf.fn));
  await clock.advance(1_999);
  assert.deepEqual(leaf.callTimes, [0]);
  await clock.advance(1);
  assert.deepEqual(leaf.callTimes, [0, 2_000]);
  await outcome;
});

void test('rate limiting is retried only when it says when to come back', async () => {
  const clock = createFakeClock();
  const withHint = failingLeaf(clock, () => new KitError(Code.ResourceExhausted, 'slow down', { retryAfterSeconds: 1 }));
  const withoutHint = failingLeaf(clock, () => new KitError(Code.ResourceExhausted, 'slow down'));
  const retry = createRetry({ maxAttempts: 3, clock, random: () => 0 });
  await Promise.all([finish(clock, retry.execute(withHint.fn)), finish(clock, retry.execute(withoutHint.fn))]);
  assert.deepEqual(withHint.callTimes, [0, 1_000, 2_000]);
  assert.equal(withoutHint.callTimes.length, 1);
});

void test('a Retry-After that would pass the deadline gives up at once', async () => {
  const clock = createFakeClock();
  const leaf = failingLeaf(clock, () => new KitError(Code.Unavailable, 'busy', { retryAfterSeconds: 5 }));
  const giveUps: GiveUpEvent[] = [];
  const retry = createRetry({ clock, random: () => 0, onGiveUp: (e) => giveUps.push(e) });
  const caller = new AbortController();
  attachDeadline(caller.signal, clock.now() + 2_000);
  const error = await finish(clock, retry.execute(leaf.fn, caller.signal));
  assert.equal(leaf.callTimes.length, 1);
  assert.equal(giveUps[0]?.reason, 'deadline');
  assert.ok(isRetriesExhausted(error));
  assert.equal(clock.pendingSleeps, 0, 'it never started a sleep');
});

void test('it never sleeps past the caller’s deadline', async () => {
  const clock = createFakeClock();
  const leaf = failingLeaf(clock);
  const giveUps: GiveUpEvent[] = [];
  const retry = createRetry({ maxAttempts: 100, baseDelayMs: 100, maxDelayMs: 10_000, clock, random: () => 0.99, onGiveUp: (e) => giveUps.push(e) });
  const deadline = createDeadline(1_000, clock);
  const error = await finish(clock, retry.execute(leaf.fn, deadline.signal));
  assert.ok(error instanceof KitError && error.code === Code.Unavailable);
  assert.ok(leaf.callTimes.every((t) => t < 1_000), `calls at ${leaf.callTimes.join(', ')}`);
  // 0, 99, 297, 693: the next wait (792 ms) would end past 1000.
  assert.deepEqual(leaf.callTimes.map(Math.round), [0, 99, 297, 693]);
  assert.equal(giveUps[0]?.reason, 'deadline');
});

void test('an explicit remainingMs option is honoured the same way', async () => {
  const clock = createFakeClock();
  const leaf = failingLeaf(clock);
  const retry = createRetry({ baseDelayMs: 100, clock, random: () => 0.5, remainingMs: () => 10 });
  await finish(clock, retry.execute(leaf.fn));
  assert.equal(leaf.callTimes.length, 1);
});

void test('deadline_exceeded is retried when only the attempt timed out, never when the caller’s deadline passed', async () => {
  const clock = createFakeClock();
  const perAttempt = failingLeaf(clock, () => new KitError(Code.DeadlineExceeded, 'attempt timed out'));
  const retry = createRetry({ clock, random: () => 0 });
  await finish(clock, retry.execute(perAttempt.fn, createDeadline(10_000, clock).signal));
  assert.equal(perAttempt.callTimes.length, 3);

  const caller = new AbortController();
  attachDeadline(caller.signal, clock.now() + 100);
  let calls = 0;
  const error = await finish(clock, retry.execute(async () => {
    calls++;
    await clock.advance(100); // the work uses the caller's whole budget
    throw new KitError(Code.DeadlineExceeded, 'out of time');
  }, caller.signal));
  assert.equal(calls, 1);
  assert.ok(error instanceof KitError && error.code === Code.DeadlineExceeded);
  assert.equal(isRetriesExhausted(error), false, 'the caller’s own deadline is not an upstream giving up');
});

void test('an abort during the backoff stops at once, with the caller’s reason', async () => {
  const clock = createFakeClock();
  const leaf = failingLeaf(clock);
  const caller = new AbortController();
  const retry = createRetry({ baseDelayMs: 1_000, clock, random: () => 0.5 });
  const outcome = settle(retry.execute(leaf.fn, caller.signal));
  await clock.advance(10);
  const reason = new KitError(Code.Canceled, 'the caller went away');
  caller.abort(reason);
  assert.equal(await outcome, reason);
  assert.equal(clock.pendingSleeps, 0);
  await clock.advance(10_000);
  assert.equal(leaf.callTimes.length, 1);
});

void test('4xx-coded errors and cancellations are never retried', async () => {
  const clock = createFakeClock();
  const retry = createRetry({ clock, random: () => 0 });
  for (const code of [Code.InvalidArgument, Code.NotFound, Code.AlreadyExists, Code.PermissionDenied, Code.Unauthenticated, Code.FailedPrecondition, Code.Aborted, Code.Canceled, Code.OutOfRange, Code.Internal]) {
    const leaf = failingLeaf(clock, () => new KitError(code, 'no'));
    const error = await finish(clock, retry.execute(leaf.fn));
    assert.equal(leaf.callTimes.length, 1, `${code} must not be retried`);
    assert.ok(error instanceof KitError && error.code === code && !isRetriesExhausted(error));
  }
});

void test('unavailable is retried up to maxAttempts and the last error comes out marked', async () => {
  const clock = createFakeClock();
  const leaf = failingLeaf(clock);
  const error = await settle(createRetry({ clock, random: () => 0 }).execute(leaf.fn));
  assert.equal(leaf.callTimes.length, 3);
  assert.ok(error instanceof KitError && error.code === Code.Unavailable);
  assert.ok(isRetriesExhausted(error));
  assert.ok(error.cause instanceof KitError, 'the original error stays the cause, for the logs');
});

void test('success after failures returns the value and passes the attempt number', async () => {
  const clock = createFakeClock();
  const attempts: number[] = [];
  const value = await createRetry({ clock, random: () => 0 }).execute(async ({ attempt }) => {
    attempts.push(attempt);
    if (attempt < 3) throw unavailable();
    return 'third time lucky';
  });
  assert.equal(value, 'third time lucky');
  assert.deepEqual(attempts, [1, 2, 3]);
});

void test('the budget caps retries under a sustained outage: 1000 failing calls retry at most 10 % + the floor', async () => {
  const clock = createFakeClock();
  const budget = createRetryBudget({ ratio: 0.1, minRetriesPerSecond: 10, windowMs: 10_000, clock });
  let budgetRefusals = 0;
  let retries = 0;
  const retry = createRetry({
    maxAttempts: 3, clock, random: () => 0, budget,
    onRetry: () => retries++,
    onGiveUp: (e) => { if (e.reason === 'budget_exhausted') budgetRefusals++; },
  });
  let leafCalls = 0;
  for (let i = 0; i < 1_000; i++) {
    await settle(retry.execute(async () => {
      leafCalls++;
      throw unavailable();
    }));
  }
  // Without the budget: 2000 retries. With it: 10 % of 1000 plus 10/s × 10 s.
  assert.ok(retries <= 100 + 100, `retries: ${retries}`);
  assert.ok(retries >= 100, `the floor still allows some retries: ${retries}`);
  assert.equal(leafCalls, 1_000 + retries);
  assert.ok(budgetRefusals > 0);
});

void test('retries do not multiply across layers: three retry layers call a failing leaf 3 times, not 27', async () => {
  const clock = createFakeClock();
  // Each layer as a separate service would have it: its own policy and its own budget.
  const layer = () => createRetry({ maxAttempts: 3, clock, random: () => 0 });
  const edge = layer();
  const middle = layer();
  const inner = layer();
  for (let call = 0; call < 10; call++) {
    let leafCalls = 0;
    const leaf = async () => {
      leafCalls++;
      throw unavailable();
    };
    const error = await settle(edge.execute(({ signal }) => middle.execute(({ signal: s }) => inner.execute(leaf, s), signal)));
    assert.ok(leafCalls <= 3, `leaf called ${leafCalls} times`);
    assert.ok(error instanceof KitError && error.code === Code.Unavailable && isRetriesExhausted(error));
  }
  // The same through wrap().
  let wrappedCalls = 0;
  await settle(wrap(layer(), layer(), layer()).execute(async () => {
    wrappedCalls++;
    throw unavailable();
  }));
  assert.equal(wrappedCalls, 3);
});

void test('an error an upstream marked as exhausted is not retried, whatever its code', async () => {
  const clock = createFakeClock();
  const leaf = failingLeaf(clock, () => markRetriesExhausted(unavailable()));
  await finish(clock, createRetry({ clock, random: () => 0 }).execute(leaf.fn));
  assert.equal(leaf.callTimes.length, 1);
  assert.equal(isRetryable(markRetriesExhausted(new KitError(Code.DeadlineExceeded, 'late'))), false);
});

void test('a policy with a single attempt does not mark what it never retried', async () => {
  const clock = createFakeClock();
  const error = await settle(createRetry({ maxAttempts: 1, clock }).execute(failingLeaf(clock).fn));
  assert.ok(error instanceof KitError && !isRetriesExhausted(error));
});
