import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import Stripe from 'stripe';
import type { ShopStack } from './shop-stack.ts';

/** What the provider holds for one order, from its own list, read with Stripe's own client. */
export interface ProviderCharge { intentId: string; status: string; amountCents: number; receivedCents: number; refundedCents: number }

/** Stripe's Node library, pointed at the shop's provider with the key the stack made for it. */
export async function providerClient(shop: ShopStack): Promise<Stripe> {
  const key = (await readFile(join(shop.stack.varDir, 'secrets', 'provider-secret-key'), 'utf8')).trim();
  const { hostname, port } = new URL(shop.stack.url('provider'));
  return new Stripe(key, { host: hostname, port: Number(port), protocol: 'http', maxNetworkRetries: 0, telemetry: false, timeout: 5_000 });
}

/** Every payment intent the provider has, by the order id in its metadata, page after page (`starting_after`). */
export async function providerLedger(shop: ShopStack): Promise<Map<string, ProviderCharge[]>> {
  const stripe = await providerClient(shop);
  const byOrder = new Map<string, ProviderCharge[]>();
  for await (const intent of stripe.paymentIntents.list({ limit: 100, expand: ['data.latest_charge'] })) {
    const orderId = intent.metadata.order_id ?? '(none)';
    const charge = typeof intent.latest_charge === 'object' && intent.latest_charge !== null ? intent.latest_charge : undefined;
    const entry = { intentId: intent.id, status: intent.status, amountCents: intent.amount, receivedCents: intent.amount_received, refundedCents: charge?.amount_refunded ?? 0 };
    byOrder.set(orderId, [...(byOrder.get(orderId) ?? []), entry]);
  }
  return byOrder;
}

export interface RecordedOrder { id: string; status: string; totalCents: number; paymentStatus: string | null; refundedCents: number; reservationConfirmed: boolean }

/** The orders as the orders service recorded them, from its own database (its role's URL). */
export async function recordedOrders(shop: ShopStack): Promise<Map<string, RecordedOrder>> {
  const url = shop.stack.database.services.get('orders')?.url;
  assert.ok(url, 'the orders database');
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ id: string; status: string; total_cents: string; payment_status: string | null; refunded_cents: string | null; reservation_confirmed: boolean }>(
      'select id, status, total_cents, payment_status, refunded_cents, reservation_confirmed from orders');
    return new Map(rows.map((row) => [row.id, {
      id: row.id, status: row.status, totalCents: Number(row.total_cents), paymentStatus: row.payment_status,
      refundedCents: Number(row.refunded_cents ?? 0), reservationConfirmed: row.reservation_confirmed,
    }]));
  } finally {
    await client.end();
  }
}

/** Checkouts not yet done or failed: what the reconciler still has to finish. */
export async function unfinishedCheckouts(shop: ShopStack): Promise<Array<{ orderId: string; step: string }>> {
  const client = new pg.Client({ connectionString: shop.stack.database.services.get('orders')?.url });
  await client.connect();
  try {
    const { rows } = await client.query<{ order_id: string; step: string }>(`select order_id, step from checkouts where step not in ('done', 'failed')`);
    return rows.map((row) => ({ orderId: row.order_id, step: row.step }));
  } finally {
    await client.end();
  }
}

/**
 * The provider's ledger equals the orders: no order charged twice, no charge without an order,
 * what was kept (taken less given back) for each order equals its total when it is paid and
 * nothing when it is not, and in all equals the sum of the paid orders.
 */
export function assertLedgerMatchesOrders(ledger: Map<string, ProviderCharge[]>, orders: Map<string, RecordedOrder>): void {
  let kept = 0;
  for (const [orderId, charges] of ledger) {
    const taken = charges.filter((charge) => charge.receivedCents > 0);
    assert.ok(taken.length <= 1, `order ${orderId} charged ${taken.length} times: ${JSON.stringify(charges)}`);
    const keptHere = taken.reduce((sum, charge) => sum + charge.receivedCents - charge.refundedCents, 0);
    kept += keptHere;
    const order = orders.get(orderId);
    if (taken.length > 0) assert.ok(order, `a charge without an order: ${orderId} ${JSON.stringify(charges)}`);
    assert.ok(!charges.some((charge) => charge.status === 'requires_capture'), `a payment of ${orderId} still held: ${JSON.stringify(charges)}`);
    if (order !== undefined) assert.equal(keptHere, order.status === 'paid' ? order.totalCents : 0, `order ${orderId} (${order.status}) kept ${keptHere}: ${JSON.stringify(charges)}`);
  }
  const paid = [...orders.values()].filter((order) => order.status === 'paid');
  for (const order of paid) assert.ok(ledger.get(order.id)?.some((charge) => charge.receivedCents > 0), `paid order ${order.id} has no charge at the provider`);
  assert.equal(kept, paid.reduce((sum, order) => sum + order.totalCents, 0), 'what the provider kept = the paid orders\' total');
}
