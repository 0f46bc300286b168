import type { Check } from './verdict.ts';

/** One order as its shopper lists it (`GET /api/v1/orders`): what the shop recorded. */
export interface SeenOrder {
  id: string;
  status: 'pending' | 'confirmed' | 'paid' | 'cancelled';
  items: ReadonlyArray<{ sku: string; quantity: number }>;
  totalCents: number;
  payment: { status: 'authorized' | 'captured' | 'voided' | 'refunded'; amountCents: number; refundedCents: number } | null;
}

/** One payment intent at the provider, by the order its metadata names (what the outside world holds). */
export interface ProviderCharge {
  orderId: string;
  status: string;
  receivedCents: number;
  refundedCents: number;
}

export interface ShopState {
  /** Every order of every shopper of the run, once the events have settled. */
  orders: readonly SeenOrder[];
  /** Each product's `available` before the shoppers began, and after. */
  stockBefore: Readonly<Record<string, number>>;
  stockAfter: Readonly<Record<string, number>>;
  /** The provider's payment intents for the run's orders; undefined where the provider cannot be read. */
  charges: readonly ProviderCharge[] | undefined;
}

// An order in one of these still holds its stock.
const holdsStock = new Set<SeenOrder['status']>(['pending', 'confirmed', 'paid']);

/**
 * Jepsen's checkers on the shop's own records, as its public API and the payment provider show
 * them once the run has settled:
 * - nothing left in flight: no order `pending`, no payment `authorized` (held on a card);
 * - stock conserved: each product's `available` after = before − the units of the run's orders
 *   that still hold stock (the shoppers cancel what they buy; an order whose cancel failed keeps
 *   its units);
 * - payments match orders: at the provider no order charged twice, none charged without being
 *   paid, and what it kept for each order (taken less given back) is its total when it is paid
 *   and nothing otherwise.
 */
export function checkShopLedger({ orders, stockBefore, stockAfter, charges }: ShopState): Check[] {
  const checks: Check[] = [];

  const stuck = orders.filter((o) => o.status === 'pending' || o.payment?.status === 'authorized');
  checks.push({
    name: 'nothing left in flight',
    passed: stuck.length === 0,
    detail: stuck.length === 0 ? `all ${orders.length} orders settled (paid, confirmed or cancelled; no payment held)` : `${stuck.length} of ${orders.length} still in flight: ${stuck.slice(0, 3).map((o) => `${o.id} ${o.status}/${o.payment?.status ?? 'no payment'}`).join(', ')}`,
  });

  const held = new Map<string, number>();
  for (const order of orders) {
    if (!holdsStock.has(order.status)) continue;
    for (const item of order.items) held.set(item.sku, (held.get(item.sku) ?? 0) + item.quantity);
  }
  const drift = Object.keys(stockBefore).map((sku) => ({ sku, expected: stockBefore[sku]! - (held.get(sku) ?? 0), actual: stockAfter[sku] }))
    .filter((s) => s.actual !== s.expected);
  checks.push({
    name: 'stock conserved',
    passed: drift.length === 0,
    detail: drift.length === 0
      ? `every product's stock is what it was less the ${[...held.values()].reduce((a, b) => a + b, 0)} units still ordered`
      : drift.map((s) => `${s.sku}: ${s.actual} available, ${s.expected} expected`).join('; '),
  });

  if (charges !== undefined) {
    const problems: string[] = [];
    const byOrder = new Map<string, ProviderCharge[]>();
    for (const charge of charges) byOrder.set(charge.orderId, [...(byOrder.get(charge.orderId) ?? []), charge]);
    const known = new Map(orders.map((o) => [o.id, o]));
    for (const [orderId, list] of byOrder) {
      const taken = list.filter((c) => c.receivedCents > 0);
      const kept = taken.reduce((sum, c) => sum + c.receivedCents - c.refundedCents, 0);
      const order = known.get(orderId);
      if (taken.length > 1) problems.push(`${orderId} charged ${taken.length} times`);
      if (order === undefined) {
        if (kept > 0) problems.push(`${orderId} charged ${kept} with no order`);
        continue;
      }
      const owed = order.status === 'paid' ? order.totalCents : 0;
      if (kept !== owed) problems.push(`${orderId} (${order.status}) kept ${kept}, owed ${owed}`);
    }
    for (const order of orders) {
      if (order.status === 'paid' && !(byOrder.get(order.id) ?? []).some((c) => c.receivedCents > 0)) problems.push(`${order.id} paid with no charge at the provider`);
    }
    const paid = orders.filter((o) => o.status === 'paid');
    checks.push({
      name: 'payments match orders',
      passed: problems.length === 0,
      detail: problems.length === 0
        ? `the provider holds ${charges.length} payment intents for ${orders.length} orders: ${paid.length} paid, each charged once and kept in full, the rest charged nothing or given back`
        : `${problems.length} disagreements: ${problems.slice(0, 5).join('; ')}${problems.length > 5 ? ', …' : ''}`,
    });
  }
  return checks;
}
