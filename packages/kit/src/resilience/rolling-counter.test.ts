import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createFakeClock } from '../testing/index.ts';
import { createRollingCounter } from './rolling-counter.ts';

void test('events fall out of the window as time passes', async () => {
  const clock = createFakeClock();
  const counter = createRollingCounter({ windowMs: 1_000, clock, buckets: 10 });
  counter.add();
  await clock.advance(500);
  counter.add(2);
  assert.equal(counter.sum(), 3);
  await clock.advance(550);
  assert.equal(counter.sum(), 2, 'the first event is more than a window old');
  await clock.advance(10_000);
  assert.equal(counter.sum(), 0);
  counter.add();
  assert.equal(counter.sum(), 1);
  counter.reset();
  assert.equal(counter.sum(), 0);
});
