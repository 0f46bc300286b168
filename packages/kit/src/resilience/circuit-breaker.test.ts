import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Code, KitError } from '../errors/index.ts';
import { type CircuitState, createCircuitBreaker } from './circuit-breaker.ts';
import { createFakeClock } from '../testing/index.ts';

const fail = (code: (typeof Code)[keyof typeof Code] = Code.Unavailable) => async () => {
  throw new KitError(code, 'failed');
};
const succeed = async () => 'ok';

async function settle<T>(promise: Promise<T>): Promise<unknown> {
  return promise.then((value) => value, (error: unknown) => error);
}

function isCircuitOpen(error: unknown): error is KitError {
  return error instanceof KitError && error.code === Code.Unavailable && error.reason === 'circuit_open';
}

void test('it opens after exactly N consecutive failures, then rejects without calling the function', async () => {
  const clock = createFakeClock();
  const changes: Array<[CircuitState, CircuitState]> = [];
  const breaker = createCircuitBreaker({ consecutiveFailures: 5, openDurationMs: 5_000, clock, onStateChange: (from, to) => changes.push([from, to]) });
  for (let i = 0; i < 4; i++) await settle(breaker.execute(fail()));
  assert.equal(breaker.state, 'closed', 'four failures are not five');
  await settle(breaker.execute(fail()));
  assert.equal(breaker.state, 'open');
  assert.deepEqual(changes, [['closed', 'open']]);

  let called = false;
  await clock.advance(1_000);
  const error = await settle(breaker.execute(async () => {
    called = true;
  }));
  assert.equal(called, false);
  assert.ok(isCircuitOpen(error));
  assert.equal(error.retryAfterSeconds, 4, 'the open time that remains');
});

void test('a success in between resets the consecutive count', async () => {
  const clock = createFakeClock();
  const breaker = createCircuitBreaker({ consecutiveFailures: 3, minimumRequests: 1_000, clock });
  for (let i = 0; i < 10; i++) {
    await settle(breaker.execute(fail()));
    await settle(breaker.execute(fail()));
    await breaker.execute(succeed);
  }
  assert.equal(breaker.state, 'closed');
});

void test('the failure rate opens it only once the window holds the minimum volume', async () => {
  const clock = createFakeClock();
  const breaker = createCircuitBreaker({ consecutiveFailures: 1_000, failureRateThreshold: 0.5, minimumRequests: 20, clock });
  // 19 calls, 9 failed (47 %), then 10 of 20 (50 %).
  for (let i = 0; i < 9; i++) {
    await breaker.execute(succeed);
    await settle(breaker.execute(fail()));
  }
  await breaker.execute(succeed);
  assert.equal(breaker.state, 'closed');
  await settle(breaker.execute(fail()));
  assert.equal(breaker.state, 'open');
});

void test('a high failure rate under the minimum volume does not open it', async () => {
  const clock = createFakeClock();
  const breaker = createCircuitBreaker({ consecutiveFailures: 1_000, failureRateThreshold: 0.5, minimumRequests: 20, clock });
  for (let i = 0; i < 6; i++) {
    await breaker.execute(succeed);
    await settle(breaker.execute(fail()));
    await settle(breaker.execute(fail()));
  }
  // 18 calls, 12 failed: 67 %, but not 20 calls yet.
  assert.equal(breaker.state, 'closed');
});

void test('failures older than the window do not count toward the rate', async () => {
  const clock = createFakeClock();
  const breaker = createCircuitBreaker({ consecutiveFailures: 1_000, minimumRequests: 20, windowMs: 10_000, clock });
  for (let i = 0; i < 15; i++) await settle(breaker.execute(fail()));
  await clock.advance(11_000);
  for (let i = 0; i < 15; i++) await breaker.execute(succeed);
  await settle(breaker.execute(fail()));
  assert.equal(breaker.state, 'closed');
});

void test('half-open admits only the probe count, and a probe success closes it', async () => {
  const clock = createFakeClock();
  const changes: string[] = [];
  const breaker = createCircuitBreaker({ consecutiveFailures: 1, openDurationMs: 5_000, halfOpenMaxProbes: 1, clock, onStateChange: (from, to) => changes.push(`${from}->${to}`) });
  await settle(breaker.execute(fail()));
  await clock.advance(4_999);
  assert.equal(breaker.state, 'open');
  await clock.advance(1);
  assert.equal(breaker.state, 'half_open');

  const probe = Promise.withResolvers<string>();
  let probeCalls = 0;
  const probing = breaker.execute(() => {
    probeCalls++;
    return probe.promise;
  });
  let secondCalled = false;
  const second = await settle(breaker.execute(async () => {
    secondCalled = true;
  }));
  assert.ok(isCircuitOpen(second));
  assert.equal(secondCalled, false);
  assert.equal(probeCalls, 1);

  probe.resolve('fine');
  assert.equal(await probing, 'fine');
  assert.equal(breaker.state, 'closed');
  assert.deepEqual(changes, ['closed->open', 'open->half_open', 'half_open->closed']);
});

void test('half-open with more probes admits that many at once', async () => {
  const clock = createFakeClock();
  const breaker = createCircuitBreaker({ consecutiveFailures: 1, openDurationMs: 1_000, halfOpenMaxProbes: 3, clock });
  await settle(breaker.execute(fail()));
  await clock.advance(1_000);
  const probes = [Promise.withResolvers<string>(), Promise.withResolvers<string>(), Promise.withResolvers<string>()];
  let calls = 0;
  const running = probes.map((probe) => breaker.execute(() => {
    calls++;
    return probe.promise;
  }));
  assert.ok(isCircuitOpen(await settle(breaker.execute(succeed))));
  assert.equal(calls, 3);
  for (const probe of probes) probe.resolve('ok');
  await Promise.all(running);
  assert.equal(breaker.state, 'closed');
});

void test('a probe failure opens it again for a full open duration', async () => {
  const clock = createFakeClock();
  const breaker = createCircuitBreaker({ consecutiveFailures: 1, openDurationMs: 5_000, clock });
  await settle(breaker.execute(fail()));
  await clock.advance(5_000);
  assert.equal(breaker.state, 'half_open');
  await settle(breaker.execute(fail(Code.DeadlineExceeded)));
  assert.equal(breaker.state, 'open');
  const error = await settle(breaker.execute(succeed));
  assert.ok(isCircuitOpen(error) && error.retryAfterSeconds === 5);
  await clock.advance(5_000);
  assert.equal(await breaker.execute(succeed), 'ok');
  assert.equal(breaker.state, 'closed');
});

void test('4xx-coded errors and the caller’s cancellations do not count as failures', async () => {
  const clock = createFakeClock();
  const breaker = createCircuitBreaker({ consecutiveFailures: 3, minimumRequests: 5, clock });
  for (const code of [Code.InvalidArgument, Code.NotFound, Code.AlreadyExists, Code.PermissionDenied, Code.Unauthenticated, Code.FailedPrecondition, Code.ResourceExhausted, Code.Canceled]) {
    for (let i = 0; i < 10; i++) {
      const error = await settle(breaker.execute(fail(code)));
      assert.ok(error instanceof KitError && error.code === code, 'the error passes through unchanged');
    }
  }
  assert.equal(breaker.state, 'closed');
});

void test('a cancellation neither counts as a failure nor breaks a run of failures', async () => {
  const clock = createFakeClock();
  const breaker = createCircuitBreaker({ consecutiveFailures: 3, minimumRequests: 1_000, clock });
  await settle(breaker.execute(fail()));
  await settle(breaker.execute(fail()));
  await settle(breaker.execute(fail(Code.Canceled)));
  assert.equal(breaker.state, 'closed');
  await settle(breaker.execute(fail()));
  assert.equal(breaker.state, 'open');
});

void test('5xx-like codes all count as failures', async () => {
  for (const code of [Code.Unavailable, Code.DeadlineExceeded, Code.Internal, Code.Unknown, Code.DataLoss]) {
    const breaker = createCircuitBreaker({ consecutiveFailures: 2, clock: createFakeClock() });
    await settle(breaker.execute(fail(code)));
    await settle(breaker.execute(fail(code)));
    assert.equal(breaker.state, 'open', code);
  }
});

void test('a slow call that ends after the breaker opened does not close it', async () => {
  const clock = createFakeClock();
  const breaker = createCircuitBreaker({ consecutiveFailures: 2, clock });
  const slow = Promise.withResolvers<string>();
  const slowCall = breaker.execute(() => slow.promise);
  await settle(breaker.execute(fail()));
  await settle(breaker.execute(fail()));
  assert.equal(breaker.state, 'open');
  slow.resolve('late');
  await slowCall;
  assert.equal(breaker.state, 'open');
});

void test('a call admitted before the breaker opened does not close it while it probes', async () => {
  const clock = createFakeClock();
  const breaker = createCircuitBreaker({ consecutiveFailures: 2, openDurationMs: 1_000, clock });
  const slow = Promise.withResolvers<string>();
  const slowCall = breaker.execute(() => slow.promise);
  await settle(breaker.execute(fail()));
  await settle(breaker.execute(fail()));
  await clock.advance(1_000);
  const probe = Promise.withResolvers<string>();
  const probing = breaker.execute(() => probe.promise);
  assert.equal(breaker.state, 'half_open');
  slow.resolve('late');
  await slowCall;
  assert.equal(breaker.state, 'half_open', 'only the probe decides');
  probe.resolve('ok');
  await probing;
  assert.equal(breaker.state, 'closed');
});
