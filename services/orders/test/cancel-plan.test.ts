import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { migrate, openPostgres } from '@baton/kit/db';
import { addCleanup, createTestDatabase, genericPlanReads } from '@baton/kit/testing';
import { findOrderMarkingCancelStatement } from '../src/orders/repository.ts';

test('a cancel finds its order by the primary key in the generic plan made on empty tables, never through the user\'s orders', async (t) => {
  const url = await createTestDatabase(t);
  if (url === undefined) return;
  const database = openPostgres({ url, applicationName: 'orders-cancel-plan-test' });
  addCleanup(t, () => database.close());
  await migrate(database, fileURLToPath(new URL('../migrations/', import.meta.url)));

  const reads = await genericPlanReads(database, findOrderMarkingCancelStatement);
  // The order read, and the order marked: both by its id.
  assert.deepEqual(reads.filter(({ relation }) => relation === 'orders').map(({ how }) => how), ['Index Scan orders_pkey', 'Index Scan orders_pkey']);
});
