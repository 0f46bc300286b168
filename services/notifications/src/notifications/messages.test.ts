import { test } from 'node:test';
import assert from 'node:assert/strict';
import { orderCancellation, orderConfirmation, paymentReceipt, refundNotice } from './messages.ts';

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

const payment = { orderId: order.orderId, paymentId: '0d5e0000-0000-4000-8000-000000000003', amountCents: 6430, currency: 'EUR' };

void test('a receipt says what was taken and from which card (brand and last four, no more); a refund notice what was given back', () => {
  const receipt = paymentReceipt({ ...payment, card: { brand: 'visa', last4: '4242' }, capturedAt: '2026-12-04T10:00:00.000Z' });
  assert.equal(receipt.subject, 'Receipt for your Baton order 0d5e0000');
  assert.match(receipt.text, /^We took 64\.30 EUR from your visa card ending 4242 for your order 0d5e0000-0000-4000-8000-000000000001\.$/m);
  const refund = refundNotice({ ...payment, refundedAt: '2026-12-04T11:00:00.000Z' });
  assert.equal(refund.subject, 'Refund for your Baton order 0d5e0000');
  assert.match(refund.text, /^We gave back 64\.30 EUR for your order/m);
});

void test('a cancellation says why: as asked, stock lost, or payment not taken', () => {
  const why = (reason: 'customer_request' | 'reservation_lost' | 'payment_failed') => orderCancellation({ orderId: order.orderId, userId: order.userId, reason, cancelledAt: order.createdAt }).text.split('\n')[0];
  assert.match(why('customer_request')!, /as you asked\.$/);
  assert.match(why('reservation_lost')!, /could not hold its stock\.$/);
  assert.match(why('payment_failed')!, /its payment could not be taken\.$/);
});
