import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout } from 'node:timers/promises';
import pg from 'pg';
import { testPostgresAdminUrl } from '@baton/kit/testing';
import { startBareChain } from '../bench/bare-chain/start-bare-chain.ts';

// The bare chain is checkout-vs-bare's baseline: its SQL is copied from the services and runs on
// their migrations, so a change there that it no longer fits must fail here, not in a bench run.

async function all<R extends pg.QueryResultRow>(url: string, text: string, params: unknown[] = []): Promise<R[]> {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => {});
  await client.connect();
  try {
    return (await client.query<R>(text, params)).rows;
  } finally {
    await client.end();
  }
}

const one = async <R extends pg.QueryResultRow>(url: string, text: string, params: unknown[] = []): Promise<R> => (await all<R>(url, text, params))[0] as R;

test('the bare chain places an order and cancels it, doing the work Baton does in each database and sending its two emails', async (t) => {
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

  // Notifications reads both events from orders' feed: a row and an .eml file each, the
  // cancellation to the address the confirmation went to.
  const sent = async () => (await readdir(chain.mailDir)).filter((name) => name.endsWith('.eml')).sort();
  for (let waitedMs = 0; (await sent()).length < 2 && waitedMs < 10_000; waitedMs += 50) await setTimeout(50);
  const rows = await all<{ event_id: string; event_type: string; recipient: string; subject: string }>(chain.databases.notifications,
    'select event_id, event_type, recipient, subject from notifications where aggregate_id = $1 order by seq', [order.id]);
  assert.deepEqual(rows.map((row) => row.event_type), ['baton.orders.order.created', 'baton.orders.order.cancelled']);
  assert.equal(new Set(rows.map((row) => row.recipient)).size, 1, 'the cancellation goes where the confirmation went');
  assert.match(rows[1]!.subject, /was cancelled/);
  assert.deepEqual(await sent(), rows.map((row) => `${row.event_id}.eml`).sort());
  const confirmation = await readFile(join(chain.mailDir, `${rows[0]!.event_id}.eml`), 'utf8');
  assert.match(confirmation, /^Subject: Your Baton order [0-9a-f]{8} is confirmed\r$/m);
  assert.match(confirmation, /^To: bench-[0-9a-f-]+@example\.com\r$/m);

  const stranger = await fetch(`${chain.gateway}/api/v1/orders`, {
    method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer not-a-token', 'idempotency-key': randomUUID() },
    body: JSON.stringify({ items: [{ sku: 'COFFEE-250G', quantity: 1 }] }),
  });
  assert.notEqual(stranger.status, 201, 'a token that does not verify is refused at the gateway');
  assert.equal(await stock(), stockBefore);
});
