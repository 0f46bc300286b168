import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Code, KitError } from '../errors/index.ts';
import { createFakeClock } from '../testing/index.ts';
import { attachDeadline, remainingMsOf } from './deadline.ts';
import { createTimeout } from './timeout.ts';

// The outcome of a call that must already have ended; a call still waiting fails the test.
async function endedAtOnce<T>(promise: Promise<T>): Promise<unknown> {
  const waiting = Symbol('still waiting');
  const outcome = await Promise.race([
    promise.then((value) => value, (error: unknown) => error),
    new Promise((resolve) => setImmediate(() => resolve(waiting))),
  ]);
  assert.notEqual(outcome, waiting, 'the call should have ended');
  return outcome;
}

// A function that only ends when its signal aborts, like a well-behaved fetch to a hung server.
function hangUntilAborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error)));
}

void test('the inner signal aborts at the timeout and the call fails with deadline_exceeded', async () => {
  const clock = createFakeClock();
  let inner: AbortSignal | undefined;
  const call = createTimeout(1_000, { clock }).execute(({ signal }) => {
    inner = signal;
    return hangUntilAborted(signal);
  }).catch((error: unknown) => error);
  await clock.advance(999);
  assert.equal(inner?.aborted, false);
  await clock.advance(1);
  assert.equal(inner?.aborted, true);
  const error = await endedAtOnce(call);
  assert.ok(error instanceof KitError);
  assert.equal(error.code, Code.DeadlineExceeded);
  assert.equal(error.reason, 'timeout');
});

void test('the call fails at the timeout even when the function ignores its signal', async () => {
  const clock = createFakeClock();
  const call = createTimeout(200, { clock }).execute(() => new Promise<never>(() => undefined)).catch((error: unknown) => error);
  await clock.advance(200);
  const error = await endedAtOnce(call);
  assert.ok(error instanceof KitError && error.code === Code.DeadlineExceeded);
});

void test('when the caller aborts, the call fails with the caller’s reason and the inner signal aborts', async () => {
  const clock = createFakeClock();
  const caller = new AbortController();
  let inner: AbortSignal | undefined;
  const call = createTimeout(1_000, { clock }).execute(({ signal }) => {
    inner = signal;
    return hangUntilAborted(signal);
  }, caller.signal);
  const reason = new KitError(Code.Canceled, 'the caller went away');
  await clock.advance(10);
  caller.abort(reason);
  assert.equal(await endedAtOnce(call), reason);
  assert.equal(inner?.aborted, true);
});

void test('a caller’s plain abort is normalised to canceled', async () => {
  const clock = createFakeClock();
  const caller = new AbortController();
  const call = createTimeout(1_000, { clock }).execute(({ signal }) => hangUntilAborted(signal), caller.signal);
  caller.abort();
  await assert.rejects(call, (error) => error instanceof KitError && error.code === Code.Canceled);
});

void test('a fast call returns its value and leaves no timer behind', async () => {
  const clock = createFakeClock();
  const value = await createTimeout(1_000, { clock }).execute(async () => 'ok');
  assert.equal(value, 'ok');
  await clock.advance(0);
  assert.equal(clock.pendingSleeps, 0);
});

void test('errors of the function come out as KitErrors', async () => {
  const clock = createFakeClock();
  const call = createTimeout(1_000, { clock }).execute(async () => {
    throw new TypeError('boom');
  });
  await assert.rejects(call, (error) => error instanceof KitError && error.code === Code.Internal);
});

void test('the inner signal carries the nearer deadline, for the next hop’s header', async () => {
  const clock = createFakeClock();
  const caller = new AbortController();
  attachDeadline(caller.signal, 300);
  const seen: Array<number | undefined> = [];
  await createTimeout(1_000, { clock }).execute(async ({ signal }) => {
    seen.push(remainingMsOf(signal, clock));
  }, caller.signal);
  await createTimeout(100, { clock }).execute(async ({ signal }) => {
    seen.push(remainingMsOf(signal, clock));
  }, caller.signal);
  assert.deepEqual(seen, [300, 100]);
});

void test('an already aborted caller never starts the function', async () => {
  const clock = createFakeClock();
  let called = false;
  const call = createTimeout(1_000, { clock }).execute(async () => {
    called = true;
  }, AbortSignal.abort());
  await assert.rejects(call, (error) => error instanceof KitError && error.code === Code.Canceled);
  assert.equal(called, false);
});
