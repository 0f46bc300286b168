import assert from 'node:assert/strict';
import { test } from 'node:test';
import { emptyServiceDatabase, genericPlanReads } from '@baton/kit/testing';
import { findOrderMarkingCancelStatement } from '../src/orders/repository.ts';

test('a cancel finds its order by the primary key in the generic plan made on empty tables, never through the user\'s orders', async (t) => {
  const database = await emptyServiceDatabase(t, new URL('../migrations/', import.meta.url));
  if (database === undefined) return;

  const reads = await genericPlanReads(database, findOrderMarkingCancelStatement);
  // The order read, and the order marked: both by its id.
  assert.deepEqual(reads.filter(({ relation }) => relation === 'orders').map(({ how }) => how), ['Index Scan orders_pkey', 'Index Scan orders_pkey']);
});
