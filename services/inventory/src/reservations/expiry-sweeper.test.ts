import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Database } from '@baton/kit/db';
import { Code, KitError } from '@baton/kit/errors';
import { createCapturedLogger } from '@baton/kit/testing';
import { startExpirySweeper } from './expiry-sweeper.ts';

// The sweeper while its database is down: it logs each failed sweep and waits longer after each,
// then sweeps at its own pace again once the database answers. Only `transaction` is used.
void test('a sweep that fails is logged and tried again later and later; once the database answers, the pace is back', async (t) => {
  let down = true;
  const sweeps: number[] = [];
  const db = {
    async transaction() {
      sweeps.push(performance.now());
      if (down) throw new KitError(Code.Unavailable, 'the database is unavailable', { reason: 'database_unavailable' });
      return 0;
    },
  } as unknown as Database;
  const { logger, lines } = createCapturedLogger({ service: 'inventory' });
  const sweeper = startExpirySweeper({ db, logger, sweepIntervalMs: 20, maxBackoffMs: 160 });
  t.after(() => sweeper.stop());

  await sleep(700);
  const failed = sweeps.length;
  // 20 ms apart, 35 sweeps would fit; waits of 40, 80, 160, 160... leave room for about seven.
  assert.ok(failed >= 3 && failed <= 10, `${failed} sweeps in 700 ms while down`);
  const gaps = sweeps.slice(1).map((at, i) => at - sweeps[i]!);
  assert.ok(gaps.at(-1)! >= 140, `the wait grew to the cap (${gaps.map(Math.round).join(', ')} ms)`);
  const warnings = lines.filter((line) => line.msg === 'expiry sweep failed; the next one will try again');
  assert.equal(warnings.length, failed, 'each failure is logged');

  down = false;
  await sleep(400);
  const after = sweeps.length - failed;
  assert.ok(after >= 4, `back to one sweep every 20 ms or so (${after} in 400 ms)`);
});
