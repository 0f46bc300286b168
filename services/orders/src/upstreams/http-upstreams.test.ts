import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Code } from '@baton/kit/errors';
import { createHttpClient } from '@baton/kit/http';
import { sendJson, startUpstream, type Upstream } from '@baton/kit/testing';
import { createHttpInventoryApi, createHttpPaymentApi, createHttpUsersApi } from './http-upstreams.ts';

// Orders' HTTP adapters (its default way to call users, inventory and payment) check what they
// read of each answer, as the gRPC ones do: an answer without a field its server always sends is
// `bad_response`, not a TypeError later in checkout. A real HTTP server answers what each test
// sets, through the kit's own client.

const orderId = '6f1c1f0e-7d8a-4a57-9a43-1d3f0f5c2b11';
const options = () => ({ signal: AbortSignal.timeout(5_000) });
let answer: unknown;
let upstream: Upstream;
const client = () => createHttpClient({ name: 'upstream', urls: [upstream.url], retry: { maxAttempts: 1 } });

before(async () => {
  upstream = await startUpstream((_req, res) => {
    if (answer === undefined) res.writeHead(200, { 'content-type': 'application/json', 'content-length': 0 }).end();
    else sendJson(res, 200, answer);
  });
});
after(() => upstream.close());

const reservation = { orderId, status: 'held', items: [{ sku: 'MUG', quantity: 1, priceCents: 1450, currency: 'EUR', name: 'Mug' }], expiresAt: '2026-12-06T10:00:00.000Z' };
const payment = { orderId, status: 'authorized', amountCents: 1450, currency: 'EUR', card: { brand: 'visa', last4: '4242' }, refundedCents: 0, declineCode: null };

describe('orders\' HTTP upstreams', () => {
  test('well-formed answers are read into what checkout uses, and nothing else', async () => {
    answer = { id: 'u1', email: 'ada@example.com', name: 'Ada', roles: ['customer'] };
    assert.deepEqual(await createHttpUsersApi(client()).getUser('u1', options()), { id: 'u1', email: 'ada@example.com', name: 'Ada' });
    answer = { ...reservation, items: [{ ...reservation.items[0], name: '' }] };
    assert.deepEqual(await createHttpInventoryApi(client()).reserve(orderId, [{ sku: 'MUG', quantity: 1 }], options()), {
      orderId, status: 'held', items: [{ sku: 'MUG', quantity: 1, priceCents: 1450, currency: 'EUR', name: 'MUG' }],
    });
    answer = payment;
    assert.deepEqual(await createHttpPaymentApi(client()).capture(orderId, options()), {
      status: 'authorized', amountCents: 1450, currency: 'EUR', brand: 'visa', last4: '4242', refundedCents: 0,
    });
    answer = { ...payment, status: 'voided', card: null };
    assert.deepEqual(await createHttpPaymentApi(client()).void(orderId, options()), {
      status: 'voided', amountCents: 1450, currency: 'EUR', brand: null, last4: null, refundedCents: 0,
    });
  });

  const broken: Array<[string, unknown, () => Promise<unknown>, RegExp]> = [
    ['a user without an email', { id: 'u1', name: 'Ada' }, () => createHttpUsersApi(client()).getUser('u1', options()), /email/],
    ['no body at all', undefined, () => createHttpUsersApi(client()).getUser('u1', options()), /body|expected object/],
    ['a reservation of an unknown status', { ...reservation, status: 'lost' }, () => createHttpInventoryApi(client()).confirm(orderId, options()), /status/],
    ['a reserved line without its price', { ...reservation, items: [{ sku: 'MUG', quantity: 1, currency: 'EUR' }] }, () => createHttpInventoryApi(client()).release(orderId, options()), /items\.0\.priceCents/],
    ['a payment with a negative amount', { ...payment, amountCents: -1 }, () => createHttpPaymentApi(client()).refund(orderId, options()), /amountCents/],
    ['a payment without its card field', { ...payment, card: undefined }, () => createHttpPaymentApi(client()).authorize(orderId, { amountCents: 1450, currency: 'EUR', method: 'pm_card_visa' }, options()), /card/],
  ];
  for (const [name, body, call, field] of broken) {
    test(`${name}: bad_response, an internal fault naming the field in its cause`, async () => {
      answer = body;
      await assert.rejects(call(), (error: { code?: string; reason?: string; cause?: unknown }) => {
        assert.equal(error.code, Code.Internal);
        assert.equal(error.reason, 'bad_response');
        assert.match(String((error.cause as Error | undefined)?.message), field);
        return true;
      });
    });
  }
});
