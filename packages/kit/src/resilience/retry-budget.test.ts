import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createFakeClock } from '../testing/index.ts';
import { createRetryBudget } from './retry-budget.ts';

function withdrawAll(budget: { tryWithdraw(): boolean }, max = 100_000): number {
  let granted = 0;
  while (granted < max && budget.tryWithdraw()) granted++;
  return granted;
}

void test('with no traffic only the floor is available: minRetriesPerSecond × window seconds', () => {
  const clock = createFakeClock();
  const budget = createRetryBudget({ ratio: 0.1, minRetriesPerSecond: 10, windowMs: 10_000, clock });
  assert.equal(withdrawAll(budget), 100);
});

void test('each request earns ratio of a retry on top of the floor', () => {
  const clock = createFakeClock();
  const budget = createRetryBudget({ ratio: 0.2, minRetriesPerSecond: 0, windowMs: 10_000, clock });
  for (let i = 0; i < 1_000; i++) budget.recordRequest();
  assert.equal(withdrawAll(budget), 200);
});

void test('the window slides: spent retries and old requests fall out of it', async () => {
  const clock = createFakeClock();
  const budget = createRetryBudget({ ratio: 0.1, minRetriesPerSecond: 1, windowMs: 10_000, clock });
  for (let i = 0; i < 100; i++) budget.recordRequest();
  assert.equal(withdrawAll(budget), 20);
  await clock.advance(5_000);
  assert.equal(budget.tryWithdraw(), false, 'still inside the window');
  await clock.advance(6_000);
  // The requests and the retries are both out of the window: only the floor remains.
  assert.equal(withdrawAll(budget), 10);
});
