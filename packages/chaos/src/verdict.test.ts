import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkLedger } from './ledger.ts';
import { outcomeOf, type RequestKind, type RequestRecord } from './outcome.ts';
import { defaultDeadlinesMs } from './run-scenario.ts';
import { healthyTail, judge } from './verdict.ts';

// Four requests a second for `seconds`, each answered with what `statusAt` says for its second.
function load(seconds: number, statusAt: (second: number) => number, kind: RequestKind = 'checkout', tookMs = 50): RequestRecord[] {
  return Array.from({ length: seconds * 4 }, (_, i) => {
    const status = statusAt(Math.floor(i / 4));
    return { kind, startedAtMs: i * 250, tookMs, status, outcome: outcomeOf(status) };
  });
}

const timing = { faultStartMs: 5_000, faultEndMs: 8_000, endMs: 20_000 };

void test('a fault that only gave 503s while it lasted passes, recovered at its end', () => {
  const verdict = judge(load(20, (s) => (s >= 5 && s < 8 ? 503 : 201)), timing, defaultDeadlinesMs, { recoveryBudgetMs: 5_000 }, undefined);
  assert.equal(verdict.passed, true, JSON.stringify(verdict.checks));
  assert.equal(verdict.recoveryMs, 0);
  assert.equal(verdict.byOutcome.unavailable, 12);
  assert.equal(verdict.timeline.length, 20);
});

void test('each check can fail: a 500, a hang, a late answer, a slow recovery, a kind that should not have been touched', () => {
  const failing = judge(load(20, (s) => (s === 6 ? 500 : s === 7 ? 0 : s < 12 && s >= 5 ? 503 : 201)), timing, defaultDeadlinesMs, { recoveryBudgetMs: 2_000, unaffected: ['checkout'] }, undefined);
  const failed = Object.fromEntries(failing.checks.map((c) => [c.name, c.passed]));
  assert.deepEqual(failed, { 'no hang': false, 'no 500': false, 'within the deadline': true, recovery: false, 'checkout unaffected': false });
  assert.equal(failing.recoveryMs, 4_000, 'from the fault\'s end (8 s) to the first second of the good run to the end (12 s)');
  assert.equal(failing.passed, false);

  const late = judge(load(20, () => 201, 'checkout', 9_500), timing, defaultDeadlinesMs, { recoveryBudgetMs: 5_000 }, undefined);
  assert.equal(late.checks.find((c) => c.name === 'within the deadline')?.passed, false, 'a checkout answered 9.5 s after it was sent is past its 8 s deadline');

  const never = judge(load(20, (s) => (s >= 5 ? 503 : 201)), timing, defaultDeadlinesMs, { recoveryBudgetMs: 5_000 }, undefined);
  assert.equal(never.recoveryMs, null);
});

void test('a healthy tail: the last whole seconds all answered and none unavailable, which lets a run waiting for a recovery end', () => {
  const recovering = load(12, (s) => (s >= 5 && s < 9 ? 503 : 201));
  assert.equal(healthyTail(recovering, 9_000, 2), false, 'seconds 7 and 8 were still 503s');
  assert.equal(healthyTail(recovering, 10_000, 2), false, 'second 9 is healthy, second 8 was not');
  assert.equal(healthyTail(recovering, 11_000, 2), true, 'seconds 9 and 10');
  assert.equal(healthyTail(recovering, 11_500, 2), true, 'the half second after them is not judged');
  assert.equal(healthyTail(load(1, () => 201), 1_000, 2), false, 'one second cannot be a tail of two');
  assert.equal(healthyTail(load(12, (s) => (s === 10 ? 0 : 201)), 11_000, 2), false, 'a request with no answer is no recovery');
});

void test('the ledger: a missing email, an event told twice, or more unknown orders than lost answers fail it', () => {
  const shoppers = [{ placed: ['a', 'b'] }, { placed: ['c'] }];
  const good = checkLedger(shoppers, [[{ type: 'order.created', orderId: 'a' }, { type: 'order.created', orderId: 'b' }, { type: 'order.cancelled', orderId: 'b' }], [{ type: 'order.created', orderId: 'c' }, { type: 'user.registered' }]]);
  assert.deepEqual(good, { acknowledged: 3, missing: [], duplicated: [], unexpected: [] });
  const bad = checkLedger(shoppers, [[{ type: 'order.created', orderId: 'a' }, { type: 'order.created', orderId: 'a' }], [{ type: 'order.created', orderId: 'c' }, { type: 'order.created', orderId: 'x' }]]);
  assert.deepEqual(bad, { acknowledged: 3, missing: ['b'], duplicated: ['a order.created'], unexpected: ['x'] });
  const records = load(20, () => 201);
  assert.equal(judge(records, timing, defaultDeadlinesMs, { recoveryBudgetMs: 1_000 }, bad).checks.find((c) => c.name === 'ledger')?.passed, false);
  const unknownOnly = { ...bad, missing: [], duplicated: [] };
  assert.equal(judge(records, timing, defaultDeadlinesMs, { recoveryBudgetMs: 1_000 }, unknownOnly).checks.find((c) => c.name === 'ledger')?.passed, false, 'no checkout lost its answer, so no unknown order may exist');
  const oneLost = [...records, { kind: 'checkout' as const, startedAtMs: 100, tookMs: 10, status: 503, outcome: 'unavailable' as const }];
  assert.equal(judge(oneLost, timing, defaultDeadlinesMs, { recoveryBudgetMs: 20_000 }, unknownOnly).checks.find((c) => c.name === 'ledger')?.passed, true, 'one lost answer may have made the one unknown order');
});

void test('amplification: the faulty service\'s calls per shopper request, before the fault and from its start on', () => {
  const records = load(20, () => 201);
  const verdict = judge(records, timing, defaultDeadlinesMs, { recoveryBudgetMs: 5_000 }, undefined, { service: 'payment', atStartCalls: 100, atFaultCalls: 120, atEndCalls: 180 });
  // Four requests a second: 20 before the fault (5 s) with 20 calls, 60 from its start with 60 calls.
  assert.deepEqual(verdict.amplification, { service: 'payment', beforePerRequest: 1, duringPerRequest: 1 });
  const restarted = judge(records, timing, defaultDeadlinesMs, { recoveryBudgetMs: 5_000 }, undefined, { service: 'payment', atStartCalls: 100, atFaultCalls: 120, atEndCalls: 30 });
  assert.equal(restarted.amplification?.duringPerRequest, null, 'a counter that went back (a restart) gives no figure');
  assert.equal(judge(records, timing, defaultDeadlinesMs, { recoveryBudgetMs: 5_000 }, undefined).amplification, undefined);
});

void test('the entry down: a refused connection is honest only where the scenario takes the entry down, and a reset only until it is gone', () => {
  const refusedAt = (s: number) => (s >= 5 && s < 8 ? -1 : 201);
  const records = load(20, refusedAt).map((r) => (r.status === -1 ? { ...r, status: 0, outcome: outcomeOf(0, { connectionRefused: true }) } : r));
  assert.equal(records.filter((r) => r.outcome === 'unreachable').length, 12);
  const noHang = (verdict: ReturnType<typeof judge>) => verdict.checks.find((c) => c.name === 'no hang')?.passed;
  assert.equal(noHang(judge(records, timing, defaultDeadlinesMs, { recoveryBudgetMs: 5_000 }, undefined)), false, 'a gateway that refuses connections in a scenario that does not take it down fails');
  assert.equal(noHang(judge(records, timing, defaultDeadlinesMs, { recoveryBudgetMs: 5_000, entryDownWithinMs: 1_000 }, undefined)), true);

  // A request reset as the entry went (sent at 4.9 s, reset at 5.5 s), and one reset later (at 7 s): a hang cut short.
  const cut = { kind: 'browse' as const, startedAtMs: 4_900, tookMs: 600, status: 0, outcome: 'no-answer' as const };
  const late = { ...cut, tookMs: 2_100 };
  assert.equal(noHang(judge([...records, cut], timing, defaultDeadlinesMs, { recoveryBudgetMs: 5_000, entryDownWithinMs: 1_000 }, undefined)), true);
  assert.equal(noHang(judge([...records, late], timing, defaultDeadlinesMs, { recoveryBudgetMs: 5_000, entryDownWithinMs: 1_000 }, undefined)), false);
  assert.equal(noHang(judge([...records, late], timing, defaultDeadlinesMs, { recoveryBudgetMs: 5_000, entryDownWithinMs: 5_000 }, undefined)), true, 'a runner\'s services take up to 5 s to go');
});

void test('a 507 (storage full) is an honest failure, as a 503 is', () => {
  assert.equal(outcomeOf(507), 'unavailable');
});
