import { afterEach, beforeEach, mock, test } from 'node:test';
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { Code, KitError } from '../errors/index.ts';
import { remainingMsOf, whenAborted } from '../resilience/deadline.ts';
import { startInboundDeadline, type InboundDeadlineOptions } from './inbound-deadline.ts';

// Every rule of the inbound deadline, once, on a fake clock; the transports' own tests
// (http-deadline.test.ts, rpc/server/rpc-deadline.test.ts) only check how they read and answer.

let overdue: KitError[];
beforeEach(() => {
  overdue = [];
  mock.timers.enable({ apis: ['setTimeout'] });
});
afterEach(() => mock.timers.reset());

function start(options: Partial<InboundDeadlineOptions> = {}) {
  return startInboundDeadline({ receivedMs: undefined, maxMs: 1_000, service: 'testsvc', answerGraceMs: 50, onOverdue: (error) => overdue.push(error), ...options });
}

function codeOf(signal: AbortSignal): string | undefined {
  return signal.reason instanceof KitError ? signal.reason.code : undefined;
}

void test('the caller\'s budget is the deadline: the signal fires then, deadline_exceeded naming the hop, and carries it', () => {
  const { signal } = start({ receivedMs: 100 });
  const remainingMs = remainingMsOf(signal);
  assert.ok(remainingMs !== undefined && remainingMs > 90 && remainingMs <= 100, `${remainingMs} ms left`);
  mock.timers.tick(99);
  assert.equal(signal.aborted, false);
  mock.timers.tick(1);
  assert.equal(codeOf(signal), Code.DeadlineExceeded);
  assert.equal((signal.reason as KitError).details.hop, 'testsvc');
});

void test('the maximum caps a longer budget, and is the budget of a caller that sent none', () => {
  const capped = start({ receivedMs: 60_000, maxMs: 200 });
  const unsent = start({ receivedMs: undefined, maxMs: 300 });
  mock.timers.tick(200);
  assert.equal(codeOf(capped.signal), Code.DeadlineExceeded);
  assert.equal(unsent.signal.aborted, false);
  mock.timers.tick(100);
  assert.equal(codeOf(unsent.signal), Code.DeadlineExceeded);
});

void test('a budget spent on arrival throws deadline_spent naming the hop, and starts nothing', () => {
  assert.throws(() => start({ receivedMs: 0 }), (error) =>
    error instanceof KitError && error.code === Code.DeadlineExceeded && error.reason === 'deadline_spent' && error.details.hop === 'testsvc');
  mock.timers.tick(10_000);
  assert.deepEqual(overdue, []);
});

void test('a handler that ignores its signal is answered for, answerGraceMs after the deadline, with the same error', () => {
  const { signal } = start({ receivedMs: 100 });
  // Two ticks: the fake clock runs a timer set inside a timer from where the tick ended.
  mock.timers.tick(100);
  mock.timers.tick(49);
  assert.deepEqual(overdue, []);
  mock.timers.tick(1);
  assert.equal(overdue.length, 1);
  assert.equal(overdue[0], signal.reason);
});

void test('end() stops the deadline: no abort and no answer after the work is done', () => {
  const deadline = start({ receivedMs: 100 });
  deadline.end();
  mock.timers.tick(1_000);
  assert.equal(deadline.signal.aborted, false);
  assert.deepEqual(overdue, []);
});

void test('a caller that goes away cancels the work; its own deadline reads as deadline_exceeded; the first reason stays', () => {
  const left = start();
  left.callerGone();
  assert.equal(codeOf(left.signal), Code.Canceled);
  left.callerGone({ deadline: true });
  assert.equal(codeOf(left.signal), Code.Canceled);
  const ranOut = start();
  ranOut.callerGone({ deadline: true });
  assert.equal(codeOf(ranOut.signal), Code.DeadlineExceeded);
});

void test('the calls made under a request hear its end without a listener on its signal each', () => {
  const deadline = start({ receivedMs: 100 });
  const heard: unknown[] = [];
  for (let i = 0; i < 3; i++) whenAborted(deadline.signal, () => heard.push(codeOf(deadline.signal)));
  assert.equal(getEventListeners(deadline.signal, 'abort').length, 0);
  mock.timers.tick(100);
  assert.deepEqual(heard, [Code.DeadlineExceeded, Code.DeadlineExceeded, Code.DeadlineExceeded]);
});
