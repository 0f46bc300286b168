import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Code, KitError } from '../errors/index.ts';
import { systemClock } from './clock.ts';
import { createFakeClock } from '../testing/index.ts';

void test('the fake clock wakes sleepers in time order, only when advanced', async () => {
  const clock = createFakeClock();
  const woke: string[] = [];
  void clock.sleep(300).then(() => woke.push(`b@${clock.now()}`));
  void clock.sleep(100).then(() => woke.push(`a@${clock.now()}`));
  await clock.advance(99);
  assert.deepEqual(woke, []);
  await clock.advance(1_000);
  assert.deepEqual(woke, ['a@100', 'b@300']);
  assert.equal(clock.now(), 1_099);
  assert.equal(clock.pendingSleeps, 0);
});

void test('the fake clock also runs sleeps scheduled by code it woke, within the same advance', async () => {
  const clock = createFakeClock();
  const times: number[] = [];
  const chain = (async () => {
    for (let i = 0; i < 3; i++) {
      await clock.sleep(100);
      times.push(clock.now());
    }
  })();
  await clock.advance(1_000);
  await chain;
  assert.deepEqual(times, [100, 200, 300]);
});

void test('a sleep rejects with the signal’s reason when it aborts, on both clocks', async () => {
  const reason = new KitError(Code.Canceled, 'stop');
  const fake = createFakeClock();
  const controller = new AbortController();
  const sleeping = fake.sleep(1_000, controller.signal);
  controller.abort(reason);
  await assert.rejects(sleeping, (error) => error === reason);
  assert.equal(fake.pendingSleeps, 0);

  const real = new AbortController();
  const realSleep = systemClock.sleep(60_000, real.signal);
  real.abort(reason);
  await assert.rejects(realSleep, (error) => error === reason);
  await assert.rejects(systemClock.sleep(10, AbortSignal.abort(reason)), (error) => error === reason);
});

void test('the system clock sleeps for real and is monotonic', async () => {
  const started = systemClock.now();
  await systemClock.sleep(5);
  assert.ok(systemClock.now() - started >= 4);
});
