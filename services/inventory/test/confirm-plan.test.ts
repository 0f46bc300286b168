import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { migrate, openPostgres } from '@baton/kit/db';
import { addCleanup, createTestDatabase, genericPlanReads } from '@baton/kit/testing';
import { confirmStatement } from '../src/reservations/confirm.ts';

test('a confirm finds its reservation by the order in the generic plan made on empty tables, never through the held ones by expiry', async (t) => {
  const url = await createTestDatabase(t);
  if (url === undefined) return;
  const database = openPostgres({ url, applicationName: 'inventory-confirm-plan-test' });
  addCleanup(t, () => database.close());
  await migrate(database, fileURLToPath(new URL('../migrations/', import.meta.url)));

  assert.deepEqual(await genericPlanReads(database, confirmStatement), [{ relation: 'reservations', how: 'Index Scan reservations_pkey' }]);
});
