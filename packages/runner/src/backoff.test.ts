import { test } from 'node:test';
import assert from 'node:assert/strict';
import { restartDelayMs } from './backoff.ts';

test('the restart delay doubles from 250 ms and stops growing at 10 s', () => {
  const delays = [1, 2, 3, 4, 5, 6, 7, 8].map((attempt) => restartDelayMs(attempt));
  assert.deepEqual(delays, [250, 500, 1_000, 2_000, 4_000, 8_000, 10_000, 10_000]);
  assert.equal(restartDelayMs(10_000), 10_000, 'a long crash loop neither overflows nor grows');
  assert.equal(restartDelayMs(2, { initialDelayMs: 10, maxDelayMs: 15 }), 15);
});
