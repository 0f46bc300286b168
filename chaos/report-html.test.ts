import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultDeadlinesMs, judge, type RequestRecord } from '@baton/chaos';
import { renderReport, type ChaosRun } from './report-html.ts';

// A run of two seconds of answers, one 500 among them inside the fault's window.
const records: RequestRecord[] = [
  { kind: 'browse', startedAtMs: 100, tookMs: 10, status: 200, outcome: 'ok' },
  { kind: 'checkout', startedAtMs: 1_200, tookMs: 30, status: 500, outcome: 'failed' },
  { kind: 'browse', startedAtMs: 2_100, tookMs: 12, status: 200, outcome: 'ok' },
];
const timing = { faultStartMs: 1_000, faultEndMs: 1_500, endMs: 3_000 };
const verdict = judge(records, timing, defaultDeadlinesMs, { recoveryBudgetMs: 5_000 }, undefined);

const run: ChaosRun = {
  run: '2026-12-05T00-40-40-855Z', startedAt: '2026-12-05T00:40:40.855Z', short: true, passed: false,
  scenarios: [
    { scenario: 'kill-orders', title: 'Kill <orders>', promise: 'No 500 & no hang', startedAt: '2026-12-05T00:40:41.000Z', ...timing, verdict, ledger: { acknowledged: 0, missing: [], duplicated: [], unexpected: [] } },
    { scenario: 'kill-postgres', title: 'Kill the embedded PostgreSQL', error: 'this stack runs on a server of yours' },
  ],
};

void test('the report says which verdicts failed and why, per scenario, with its chart and the fault shaded', () => {
  const page = renderReport(run);
  assert.match(page, /<title>Baton chaos run 2026-12-05T00-40-40-855Z: FAILED<\/title>/);
  // The summary row names the failed check with its detail; the scenario that could not run says why.
  assert.match(page, /<a href="#kill-orders">kill-orders<\/a><\/td><td class="failed">FAILED<\/td><td>no 500: 1 answered 500/);
  assert.match(page, /could not run<\/td><td>this stack runs on a server of yours/);
  // Text from the scenarios is escaped, never markup.
  assert.match(page, /Kill &#60;orders&#62;/);
  assert.match(page, /No 500 &#38; no hang/);
  // One bar per outcome present in each second, and the fault's window shaded from 1 s.
  assert.equal((page.match(/<rect x="[\d.]+" y="[\d.]+" width="[\d.]+" height="[\d.]+" fill="#c62828">/g) ?? []).length, 1);
  assert.match(page, /the fault from 1\.0 s to 1\.5 s is shaded/);
  // Self-contained: nothing fetched, nothing run.
  assert.doesNotMatch(page, /<script|src=|href="http/);
});
