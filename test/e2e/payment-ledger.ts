import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import Stripe from 'stripe';
import { checkShopLedger, type SeenOrder } from '@baton/chaos';
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
 * The provider's ledger equals the orders, by the chaos verdict's own checker (`checkShopLedger`'s
 * "payments match orders": no order charged twice, no charge without an order, what was kept for
 * each order its total when it is paid and nothing when it is not), and no payment still held.
 */
export function assertLedgerMatchesOrders(ledger: Map<string, ProviderCharge[]>, orders: Map<string, RecordedOrder>): void {
  for (const [orderId, charges] of ledger) {
    assert.ok(!charges.some((charge) => charge.status === 'requires_capture'), `a payment of ${orderId} still held: ${JSON.stringify(charges)}`);
  }
  const seen = [...orders.values()].map((order) => ({ id: order.id, status: order.status as SeenOrder['status'], items: [], totalCents: order.totalCents, payment: null }));
  const charges = [...ledger].flatMap(([orderId, list]) => list.map((charge) => ({ orderId, status: charge.status, receivedCents: charge.receivedCents, refundedCents: charge.refundedCents })));
  const payments = checkShopLedger({ orders: seen, stockBefore: {}, stockAfter: {}, charges }).find((check) => check.name === 'payments match orders');
  assert.ok(payments?.passed === true, payments?.detail);
}
