import { test } from 'node:test';
import { getEventListeners } from 'node:events';
import assert from 'node:assert/strict';
import { Code, KitError } from '../errors/index.ts';
import { systemClock } from './clock.ts';
import { createFakeClock } from '../testing/index.ts';
import {
  attachDeadline,
  createCallSignal,
  createDeadline,
  createFanOutController,
  effectiveBudgetMs,
  formatBudget,
  maxBudgetMs,
  parseBudget,
  remainingMsOf,
  timeoutHeader,
  whenAborted,
} from './deadline.ts';

void test('the header is the agreed name', () => {
  assert.equal(timeoutHeader, 'x-baton-timeout-ms');
});

void test('a budget survives the trip through the header, less the network margin', async () => {
  const clock = createFakeClock({ startMs: 10_000 });
  const deadline = createDeadline(2_000, clock);
  await clock.advance(500);
  const header = formatBudget(deadline.remainingMs());
  assert.equal(header, '1495');
  const received = parseBudget(header);
  assert.equal(received, 1_495);
  // The callee's route allows 1 s: the caller cannot lengthen that, only shorten it.
  assert.equal(effectiveBudgetMs(received, 1_000), 1_000);
  assert.equal(effectiveBudgetMs(received, 5_000), 1_495);
  assert.equal(effectiveBudgetMs(undefined, 5_000), 5_000);
});

void test('formatBudget subtracts the margin, rounds down and never goes below 0 or above the cap', () => {
  assert.equal(formatBudget(1_000), '995');
  assert.equal(formatBudget(1_000, 20), '980');
  assert.equal(formatBudget(1_000.9, 0), '1000');
  assert.equal(formatBudget(3), '0');
  assert.equal(formatBudget(-50), '0');
  assert.equal(formatBudget(Number.NaN), '0');
  assert.equal(formatBudget(Infinity), String(maxBudgetMs));
});

void test('parseBudget rejects garbage and caps absurd budgets', () => {
  assert.equal(parseBudget('250'), 250);
  assert.equal(parseBudget('0'), 0);
  assert.equal(parseBudget('9999999999'), maxBudgetMs);
  for (const garbage of ['', ' ', 'abc', '-5', '+5', '1.5', '1e3', '0x10', '10ms', '5, 10', '99999999999', 'Infinity', 'NaN']) {
    assert.equal(parseBudget(garbage), undefined, `“${garbage}” must be rejected`);
  }
  assert.equal(parseBudget(undefined), undefined);
  assert.equal(parseBudget(null), undefined);
  assert.equal(parseBudget(['100', '200']), undefined);
});

void test('a deadline counts down, expires and aborts its signal with deadline_exceeded', async () => {
  const clock = createFakeClock();
  const deadline = createDeadline(1_000, clock);
  const { signal } = deadline;
  assert.equal(deadline.atMs, 1_000);
  assert.equal(remainingMsOf(signal, clock), 1_000);
  await clock.advance(999);
  assert.equal(deadline.remainingMs(), 1);
  assert.equal(deadline.expired, false);
  assert.equal(signal.aborted, false);
  await clock.advance(1);
  assert.equal(deadline.expired, true);
  assert.equal(signal.aborted, true);
  assert.ok(signal.reason instanceof KitError);
  assert.equal((signal.reason as KitError).code, Code.DeadlineExceeded);
  await clock.advance(500);
  assert.equal(deadline.remainingMs(), 0, 'never below 0');
});

void test('a deadline is never later than its parent’s, and aborts with the parent', async () => {
  const clock = createFakeClock();
  const parent = new AbortController();
  attachDeadline(parent.signal, 300);
  const deadline = createDeadline(1_000, clock, parent.signal);
  assert.equal(deadline.atMs, 300);
  assert.equal(remainingMsOf(deadline.signal, clock), 300);

  const shorter = createDeadline(100, clock, parent.signal);
  assert.equal(shorter.atMs, 100);

  const reason = new KitError(Code.Canceled, 'the caller went away');
  parent.abort(reason);
  assert.equal(deadline.signal.aborted, true);
  assert.equal(deadline.signal.reason, reason);
});

void test('a zero budget is expired at once', () => {
  const clock = createFakeClock();
  const deadline = createDeadline(0, clock);
  assert.equal(deadline.expired, true);
  assert.equal(deadline.signal.aborted, true);
});

void test('on the system clock the deadline fires for real, without keeping the process alive', async () => {
  const deadline = createDeadline(5, systemClock);
  const reason = await new Promise((resolve) => deadline.signal.addEventListener('abort', () => resolve(deadline.signal.reason)));
  assert.ok(reason instanceof KitError && reason.code === Code.DeadlineExceeded);
  // A long deadline nobody waits on must not hold the test process open: if it did, this file would time out.
  void createDeadline(60_000, systemClock).signal;
});

void test('an earlier attached deadline wins over a later one', () => {
  const signal = new AbortController().signal;
  attachDeadline(signal, 500);
  attachDeadline(signal, 900);
  const clock = createFakeClock();
  assert.equal(remainingMsOf(signal, clock), 500);
  assert.equal(remainingMsOf(new AbortController().signal, clock), undefined);
});

void test('the calls under a signal the kit aborts itself hear it without a listener on it, and each hears it once', () => {
  const request = createFanOutController();
  const heard: unknown[] = [];
  const forgotten = whenAborted(request.signal, () => heard.push('forgotten'));
  whenAborted(request.signal, () => heard.push(request.signal.reason));
  const call = createCallSignal(systemClock.now() + 60_000, { parent: request.signal });
  assert.equal(getEventListeners(request.signal, 'abort').length, 0, 'no EventTarget listener on the request\'s signal');
  forgotten();
  const why = new KitError(Code.Canceled, 'the caller went away');
  request.abort(why);
  request.abort(new Error('a second abort'));
  assert.deepEqual(heard, [why]);
  assert.equal(call.signal.reason, why, 'the call under it ended with its reason');
  // A signal the kit did not make is heard through one listener, whoever waits on it.
  const foreign = new AbortController();
  whenAborted(foreign.signal, () => undefined);
  whenAborted(foreign.signal, () => undefined);
  assert.equal(getEventListeners(foreign.signal, 'abort').length, 1);
});
