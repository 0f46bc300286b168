import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KitError } from '@baton/kit/errors';
import { createFakeClock } from '@baton/kit/testing';
import { createAddressThrottle } from './sign-in-throttle.ts';

/** The seconds `begin` says to wait, or 0 when it let the attempt through. */
function waitSeconds(begin: () => void): number {
  try {
    begin();
    return 0;
  } catch (error) {
    assert.ok(error instanceof KitError);
    assert.equal(error.reason, 'sign_in_throttled');
    return error.retryAfterSeconds ?? Number.NaN;
  }
}

void test('past the free failures, each further failure doubles the wait, up to the longest', async () => {
  const clock = createFakeClock({ startMs: 1_000_000 });
  const throttle = createAddressThrottle({ freeFailures: 2, baseDelayMs: 1_000, maxDelayMs: 8_000, now: () => clock.now() });
  const attempt = () => waitSeconds(() => throttle.begin('198.51.100.1'));
  assert.deepEqual([attempt(), attempt(), attempt()], [0, 0, 0], 'two free, and the third is let through but sets the first wait');
  const waits: number[] = [];
  for (let i = 0; i < 5; i++) {
    const wait = attempt();
    waits.push(wait);
    assert.equal(attempt(), wait, 'while waiting, every attempt is refused with the same wait');
    await clock.advance(wait * 1_000);
    assert.equal(attempt(), 0, 'once the wait is over, one more attempt goes through');
  }
  assert.deepEqual(waits, [1, 2, 4, 8, 8]);
  assert.equal(waitSeconds(() => throttle.begin('198.51.100.2')), 0, 'another address is not held up');
});

void test('a right sign-in takes back its own count only; an address quiet for the longest wait starts over', async () => {
  const clock = createFakeClock({ startMs: 1_000_000 });
  const throttle = createAddressThrottle({ freeFailures: 2, baseDelayMs: 1_000, maxDelayMs: 60_000, now: () => clock.now() });
  const address = '198.51.100.3';
  throttle.begin(address);
  throttle.begin(address);
  throttle.begin(address);
  throttle.succeeded(address);
  assert.equal(waitSeconds(() => throttle.begin(address)), 0, 'the right sign-in lifted the wait its own attempt had set');
  assert.equal(waitSeconds(() => throttle.begin(address)), 1, 'but the wrong ones still count');
  await clock.advance(60_001);
  for (let i = 0; i < 3; i++) assert.equal(waitSeconds(() => throttle.begin(address)), 0, `after a quiet spell, attempt ${i + 1} is free again`);
});

void test('the addresses remembered are bounded: the least recently seen is forgotten first', () => {
  const throttle = createAddressThrottle({ freeFailures: 0, baseDelayMs: 60_000, maxDelayMs: 60_000, maxAddresses: 2, now: () => 0 });
  throttle.begin('a');
  throttle.begin('b');
  throttle.begin('c');
  assert.equal(waitSeconds(() => throttle.begin('a')), 0, 'a was forgotten');
  assert.equal(waitSeconds(() => throttle.begin('c')), 60, 'c is remembered');
});
