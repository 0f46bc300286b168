import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { testPostgresAdminUrl } from '@baton/kit/testing';
import { startBareChain } from '../bench/bare-chain/start-bare-chain.ts';

// The bare chain is checkout-vs-bare's baseline: its SQL is copied from the services and runs on
// their migrations, so a change there that it no longer fits must fail here, not in a bench run.

async function one<R extends pg.QueryResultRow>(url: string, text: string, params: unknown[] = []): Promise<R> {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => {});
  await client.connect();
  try {
    return (await client.query<R>(text, params)).rows[0] as R;
  } finally {
    await client.end();
  }
}

test('the bare chain places an order and cancels it, doing the work Baton does in each database', async (t) => {
  const chain = await startBareChain(await testPostgresAdminUrl());
  t.after(() => chain.stop());
  const stock = async () => (await one<{ stock: number }>(chain.databases.inventory, "select stock from products where sku = 'COFFEE-250G'")).stock;
  const outboxRows = async () => Number((await one<{ n: string }>(chain.databases.orders, 'select count(*) as n from baton_outbox')).n);
  const stockBefore = await stock();
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${chain.token}` };

  const placed = await fetch(`${chain.gateway}/api/v1/orders`, {
    method: 'POST', headers: { ...headers, 'idempotency-key': randomUUID() }, body: JSON.stringify({ items: [{ sku: 'COFFEE-250G', quantity: 2 }] }),
  });
  assert.equal(placed.status, 201);
  const order = (await placed.json()) as { id: string; totalCents: number };
  assert.equal(order.totalCents, 2 * 890, 'priced by the reservation, from the seeded catalogue');
  assert.equal(await stock(), stockBefore - 2);
  assert.equal((await one<{ status: string }>(chain.databases.inventory, 'select status from reservations where order_id = $1', [order.id])).status, 'confirmed');
  assert.equal((await one<{ reservation_confirmed: boolean }>(chain.databases.orders, 'select reservation_confirmed from orders where id = $1', [order.id])).reservation_confirmed, true);
  assert.equal((await one<{ state: string }>(chain.databases.orders, 'select state from idempotency_keys where order_id = $1', [order.id])).state, 'completed');
  assert.equal(await outboxRows(), 1, 'order.created in the outbox');

  const cancelled = await fetch(`${chain.gateway}/api/v1/orders/${order.id}/cancel`, { method: 'POST', headers, body: '{}' });
  assert.equal(cancelled.status, 200);
  assert.equal(((await cancelled.json()) as { status: string }).status, 'cancelled');
  assert.equal(await stock(), stockBefore, 'the stock is back');
  assert.equal((await one<{ status: string }>(chain.databases.inventory, 'select status from reservations where order_id = $1', [order.id])).status, 'released');
  assert.equal(await outboxRows(), 2, 'order.cancelled in the outbox');

  const stranger = await fetch(`${chain.gateway}/api/v1/orders`, {
    method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer not-a-token', 'idempotency-key': randomUUID() },
    body: JSON.stringify({ items: [{ sku: 'COFFEE-250G', quantity: 1 }] }),
  });
  assert.notEqual(stranger.status, 201, 'a token that does not verify is refused at the gateway');
  assert.equal(await stock(), stockBefore);
});
