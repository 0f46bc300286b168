import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { createClient, problemOf, type Client } from './support/http.ts';
import { startInventory, type TestInventory } from './support/inventory.ts';

const sku = 'TOTE-CANVAS';
const line = { sku, quantity: 1 };
const orderId = randomUUID();

// Each case is a request a careless or hostile caller could send; every one must be refused
// with a 4xx problem document that says what was wrong, and none may reach the stock.
const cases: Array<{ name: string; status: number; body?: unknown; raw?: string; contentType?: string; path?: string; field?: string }> = [
  { name: 'malformed JSON', status: 400, raw: '{"orderId": "' + orderId + '", "items": [', field: 'body' },
  { name: 'an empty JSON body', status: 400, raw: '' },
  { name: 'JSON that is not an object', status: 400, raw: '[1, 2, 3]' },
  { name: 'a text body', status: 415, raw: 'reserve please', contentType: 'text/plain' },
  { name: 'a form body', status: 415, raw: 'orderId=1', contentType: 'application/x-www-form-urlencoded' },
  { name: 'an XML body', status: 415, raw: '<reservation/>', contentType: 'application/xml' },
  { name: 'no order id', status: 400, body: { items: [line] }, field: 'body.orderId' },
  { name: 'an order id that is not a UUID', status: 400, body: { orderId: 'order-1', items: [line] }, field: 'body.orderId' },
  { name: 'an order id that is a number', status: 400, body: { orderId: 12, items: [line] }, field: 'body.orderId' },
  { name: 'items that are not a list', status: 400, body: { orderId, items: 'TOTE-CANVAS' }, field: 'body.items' },
  { name: 'no items', status: 400, body: { orderId, items: [] }, field: 'body.items' },
  { name: '51 lines', status: 400, body: { orderId, items: Array.from({ length: 51 }, (_, i) => ({ sku: `SKU-${i}`, quantity: 1 })) }, field: 'body.items' },
  { name: 'an unknown top-level field', status: 400, body: { orderId, items: [line], priority: 'high' } },
  { name: 'an unknown field in a line', status: 400, body: { orderId, items: [{ ...line, priceCents: 1 }] } },
  { name: 'quantity 0', status: 400, body: { orderId, items: [{ sku, quantity: 0 }] }, field: 'body.items.0.quantity' },
  { name: 'quantity -1', status: 400, body: { orderId, items: [{ sku, quantity: -1 }] }, field: 'body.items.0.quantity' },
  { name: 'quantity 1e308', status: 400, raw: `{"orderId":"${orderId}","items":[{"sku":"${sku}","quantity":1e308}]}`, field: 'body.items.0.quantity' },
  { name: 'quantity 1.5', status: 400, body: { orderId, items: [{ sku, quantity: 1.5 }] }, field: 'body.items.0.quantity' },
  { name: 'quantity 1001', status: 400, body: { orderId, items: [{ sku, quantity: 1001 }] }, field: 'body.items.0.quantity' },
  { name: 'quantity as a string', status: 400, body: { orderId, items: [{ sku, quantity: '1' }] }, field: 'body.items.0.quantity' },
  { name: 'a malformed SKU', status: 400, body: { orderId, items: [{ sku: "tote'; drop table products; --", quantity: 1 }] }, field: 'body.items.0.sku' },
  { name: 'the same SKU twice', status: 400, body: { orderId, items: [line, line] }, field: 'body.items' },
  { name: 'a TTL of 0', status: 400, body: { orderId, items: [line], ttlSeconds: 0 }, field: 'body.ttlSeconds' },
  { name: 'a TTL of a day (past the default RESERVATION_MAX_TTL_SECONDS, an hour)', status: 400, body: { orderId, items: [line], ttlSeconds: 86_400 }, field: 'body.ttlSeconds' },
  { name: 'a TTL of a year', status: 400, body: { orderId, items: [line], ttlSeconds: 31_536_000 }, field: 'body.ttlSeconds' },
  { name: 'a 2 MB body', status: 413, raw: JSON.stringify({ orderId, items: [line], padding: 'x'.repeat(2 * 1024 * 1024) }) },
  { name: 'a reservation path that is not a UUID', status: 400, path: '/v1/reservations/not-a-uuid/confirm' },
  { name: 'release of a path that is not a UUID', status: 400, path: '/v1/reservations/123/release' },
];

void describe('bad input to the reservations API', () => {
  let inventory: TestInventory;
  let client: Client;
  let initial: number;

  before(async () => {
    inventory = await startInventory();
    client = createClient(inventory.url);
    initial = await client.available(sku);
  });
  after(async () => {
    await inventory?.stop();
  });

  for (const bad of cases) {
    void it(`answers ${bad.status} to ${bad.name}`, async () => {
      const answer = await client.send('POST', bad.path ?? '/v1/reservations', {
        ...(bad.raw === undefined ? { json: bad.body } : { body: bad.raw, headers: { 'content-type': bad.contentType ?? 'application/json' } }),
      });
      assert.equal(answer.status, bad.status, JSON.stringify(answer.body));
      assert.match(answer.contentType, /^application\/problem\+json/);
      const problem = problemOf(answer);
      assert.equal(problem.status, bad.status);
      assert.equal(typeof problem.detail, 'string');
      if (bad.field !== undefined) {
        assert.ok(problem.errors?.some((e) => e.field === bad.field), `no error for ${bad.field}: ${JSON.stringify(problem.errors)}`);
      }
    });
  }

  void it('took no stock and is still healthy after all of it', async () => {
    assert.equal(await client.available(sku), initial);
    assert.equal((await client.send('GET', '/healthz')).status, 200);
  });
});
