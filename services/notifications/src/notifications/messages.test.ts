import { test } from 'node:test';
import assert from 'node:assert/strict';
import { orderConfirmation } from './messages.ts';

const order = {
  orderId: '0d5e0000-0000-4000-8000-000000000001', userId: '0d5e0000-0000-4000-8000-000000000002',
  customer: { email: 'ada@example.com', name: 'Ada' }, totalCents: 6430, currency: 'EUR', createdAt: '2026-12-03T18:00:00.000Z',
};

void test('an order email names each product, with its unit price, its line total and the order\'s total', () => {
  const { text } = orderConfirmation({ ...order, items: [
    { sku: 'COFFEE-1KG', name: 'Single-origin coffee beans, 1 kg', quantity: 2, priceCents: 2490 },
    { sku: 'MUG-STONEWARE', name: 'Stoneware mug, 350 ml', quantity: 1, priceCents: 1450 },
  ] });
  assert.match(text, /^ {2}2 × Single-origin coffee beans, 1 kg \(COFFEE-1KG\) at 24\.90 EUR = 49\.80 EUR$/m);
  assert.match(text, /^ {2}1 × Stoneware mug, 350 ml \(MUG-STONEWARE\) at 14\.50 EUR = 14\.50 EUR$/m);
  assert.match(text, /^Total: 64\.30 EUR$/m);
});

void test('an order.created event from before lines carried names shows the SKU in the name\'s place', () => {
  const { text } = orderConfirmation({ ...order, totalCents: 2490, items: [{ sku: 'COFFEE-1KG', quantity: 1, priceCents: 2490 }] });
  assert.match(text, /^ {2}1 × COFFEE-1KG at 24\.90 EUR = 24\.90 EUR$/m);
});
