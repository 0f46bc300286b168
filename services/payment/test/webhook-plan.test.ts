import assert from 'node:assert/strict';
import { test } from 'node:test';
import { emptyServiceDatabase, genericPlanReads } from '@baton/kit/testing';
import { webhookPaymentStatement } from '../src/payments/payments.ts';

test('a webhook finds its payment through the two unique indexes in the generic plan made on empty tables, never by reading the whole table', async (t) => {
  const database = await emptyServiceDatabase(t, new URL('../migrations/', import.meta.url));
  if (database === undefined) return;

  assert.deepEqual(await genericPlanReads(database, webhookPaymentStatement), [
    { relation: 'payments', how: 'Bitmap Heap Scan' },
    { relation: 'payments', how: 'Bitmap Index Scan payments_provider_payment_id_key' },
    { relation: 'payments', how: 'Bitmap Index Scan payments_pkey' },
  ]);
});
