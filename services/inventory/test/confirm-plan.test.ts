import assert from 'node:assert/strict';
import { test } from 'node:test';
import { emptyServiceDatabase, genericPlanReads } from '@baton/kit/testing';
import { confirmStatement } from '../src/reservations/confirm.ts';

test('a confirm finds its reservation by the order in the generic plan made on empty tables, never through the held ones by expiry', async (t) => {
  const database = await emptyServiceDatabase(t, new URL('../migrations/', import.meta.url));
  if (database === undefined) return;

  assert.deepEqual(await genericPlanReads(database, confirmStatement), [{ relation: 'reservations', how: 'Index Scan reservations_pkey' }]);
});
