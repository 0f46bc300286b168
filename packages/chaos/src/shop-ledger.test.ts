import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkShopLedger, type ProviderCharge, type SeenOrder } from './shop-ledger.ts';

const order = (id: string, status: SeenOrder['status'], payment: SeenOrder['payment'], sku = 'COFFEE-250G'): SeenOrder => ({ id, status, items: [{ sku, quantity: 1 }], totalCents: 900, payment });
const captured = { status: 'captured' as const, amountCents: 900, refundedCents: 0 };
const refunded = { status: 'refunded' as const, amountCents: 900, refundedCents: 900 };
const charge = (orderId: string, receivedCents: number, refundedCents: number): ProviderCharge => ({ orderId, status: 'succeeded', receivedCents, refundedCents });

void test('a settled run passes: what was bought and given back is back in stock, and the provider kept exactly the paid orders', () => {
  const orders = [order('a', 'cancelled', refunded), order('b', 'paid', captured), order('c', 'cancelled', null)];
  const checks = checkShopLedger({
    orders, stockBefore: { 'COFFEE-250G': 50 }, stockAfter: { 'COFFEE-250G': 49 },
    charges: [charge('a', 900, 900), charge('b', 900, 0)],
  });
  assert.deepEqual(checks.map((c) => [c.name, c.passed]), [['nothing left in flight', true], ['stock conserved', true], ['payments match orders', true]]);
});

void test('each check can fail: an order left pending, a unit lost, a charge twice, a paid order never charged, a refund never given', () => {
  const orders = [order('a', 'pending', { ...captured, status: 'authorized' }), order('b', 'paid', captured), order('c', 'cancelled', refunded), order('d', 'paid', captured)];
  const checks = checkShopLedger({
    orders, stockBefore: { 'COFFEE-250G': 50 }, stockAfter: { 'COFFEE-250G': 46 },
    charges: [charge('b', 900, 0), charge('b', 900, 0), charge('c', 900, 0), charge('x', 500, 0)],
  });
  const byName = Object.fromEntries(checks.map((c) => [c.name, c]));
  assert.equal(byName['nothing left in flight']!.passed, false);
  // a, b and d hold 3 units: 47 expected.
  assert.match(byName['stock conserved']!.detail, /COFFEE-250G: 46 available, 47 expected/);
  const payments = byName['payments match orders']!;
  assert.equal(payments.passed, false);
  for (const problem of ['b charged 2 times', 'c (cancelled) kept 900, owed 0', 'x charged 500 with no order', 'd paid with no charge at the provider']) assert.ok(payments.detail.includes(problem), `${problem} in: ${payments.detail}`);
});

void test('without the provider\'s side (a shop whose key this side does not hold), the payments are not judged', () => {
  const checks = checkShopLedger({ orders: [], stockBefore: {}, stockAfter: {}, charges: undefined });
  assert.deepEqual(checks.map((c) => c.name), ['nothing left in flight', 'stock conserved']);
});
