import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Database } from '@baton/kit/db';
import { Code, KitError } from '@baton/kit/errors';
import { createCapturedLogger } from '@baton/kit/testing';
import type { OrderEvents } from '../events/order-events.ts';
import type { InventoryApi } from '../upstreams/upstreams.ts';
import { startReservationReconciler } from './reconciler.ts';

// The reconciler while its database is down: each failed pass is logged and the next waits longer,
// and once the database answers it passes at its own pace again. Only `query` is used here.
void test('a pass that fails is logged and tried again later and later; once the database answers, the pace is back', async (t) => {
  let down = true;
  const passes: number[] = [];
  const db = {
    async query() {
      passes.push(performance.now());
      if (down) throw new KitError(Code.Unavailable, 'the database is unavailable', { reason: 'database_unavailable' });
      return { rows: [], rowCount: 0 };
    },
  } as unknown as Database;
  const { logger, lines } = createCapturedLogger({ service: 'orders' });
  const reconciler = startReservationReconciler(
    { db, logger, inventory: {} as InventoryApi, events: { committed() {} } as unknown as OrderEvents },
    { intervalMs: 20, maxBackoffMs: 160 });
  t.after(() => reconciler.stop());

  await sleep(700);
  const failed = passes.length;
  assert.ok(failed >= 3 && failed <= 10, `${failed} passes in 700 ms while down`);
  const warnings = lines.filter((line) => line.msg === 'reconciler pass failed; the next one will try again');
  assert.equal(warnings.length, failed, 'each failure is logged');

  down = false;
  await sleep(400);
  assert.ok(passes.length - failed >= 4, `back to one pass every 20 ms or so (${passes.length - failed} in 400 ms)`);
});
