import assert from 'node:assert/strict';
import { test } from 'node:test';
import { emptyServiceDatabase, genericPlanReads } from '@baton/kit/testing';
import { markFailedStatement, markReadyStatement } from '../src/images/image-records.ts';

test('an image made ready or failed is found by its id in the generic plans made on empty tables, never through the queue of images still processing', async (t) => {
  const database = await emptyServiceDatabase(t, new URL('../migrations/', import.meta.url));
  if (database === undefined) return;

  for (const statement of [markReadyStatement, markFailedStatement]) {
    assert.deepEqual(await genericPlanReads(database, statement), [{ relation: 'images', how: 'Index Scan images_pkey' }], statement);
  }
});
