import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { createClient, problemOf, type Client } from './support/http.ts';
import { startInventory, type TestInventory } from './support/inventory.ts';

// Each test works on SKUs of its own, so the tests cannot disturb each other's stock.
void describe('reservations', () => {
  let inventory: TestInventory;
  let client: Client;

  before(async () => {
    inventory = await startInventory();
    client = createClient(inventory.url);
  });
  after(async () => {
    await inventory?.stop();
  });

  void it('takes the stock, shows the reservation, and gives the stock back on release', async () => {
    const sku = 'COFFEE-1KG';
    const initial = await client.available(sku);
    const price = (await client.product(sku)).body.priceCents;
    const orderId = randomUUID();

    const reserved = await client.reserve([{ sku, quantity: 3 }], { orderId });
    assert.equal(reserved.status, 201);
    assert.equal(reserved.headers.get('location'), `/v1/reservations/${orderId}`);
    assert.equal(reserved.body.orderId, orderId);
    assert.equal(reserved.body.status, 'held');
    assert.deepEqual(reserved.body.items, [{ sku, quantity: 3, priceCents: price, currency: 'EUR', name: 'Single-origin coffee beans, 1 kg' }]);
    // The default TTL (900 s) holds it for a quarter of an hour, give or take this test's own time.
    const holdSeconds = (Date.parse(reserved.body.expiresAt) - Date.now()) / 1000;
    assert.ok(holdSeconds > 800 && holdSeconds <= 901, `held for ${holdSeconds} s`);
    assert.equal(await client.available(sku), initial - 3);

    const shown = await client.reservation(orderId);
    assert.equal(shown.status, 200);
    assert.deepEqual(shown.body, reserved.body);

    const released = await client.release(orderId);
    assert.equal(released.status, 200);
    assert.equal(released.body.status, 'released');
    assert.equal(await client.available(sku), initial);

    const again = await client.release(orderId);
    assert.equal(again.status, 200);
    assert.equal(again.body.status, 'released');
    assert.equal(await client.available(sku), initial, 'a second release returned the stock again');
  });

  void it('honours a TTL the caller asks for', async () => {
    const reserved = await client.reserve([{ sku: 'COFFEE-250G', quantity: 1 }], { ttlSeconds: 60 });
    assert.equal(reserved.status, 201);
    const holdSeconds = (Date.parse(reserved.body.expiresAt) - Date.now()) / 1000;
    assert.ok(holdSeconds > 0 && holdSeconds <= 61, `held for ${holdSeconds} s`);
  });

  void it('reserves every line or none: a short line leaves the others untouched and every short SKU is named', async () => {
    const [plenty, shortA, shortB] = ['MUG-STONEWARE', 'MUG-TRAVEL', 'GRINDER-BURR'];
    assert.ok(plenty && shortA && shortB);
    const initial = { plenty: await client.available(plenty), shortA: await client.available(shortA), shortB: await client.available(shortB) };

    const answer = await client.reserve([
      { sku: shortB, quantity: initial.shortB + 1 },
      { sku: plenty, quantity: 1 },
      { sku: shortA, quantity: initial.shortA + 5 },
    ]);
    assert.equal(answer.status, 409);
    assert.match(answer.contentType, /^application\/problem\+json/);
    const problem = problemOf(answer);
    assert.equal(problem.code, 'aborted');
    assert.equal(problem.reason, 'out_of_stock');
    assert.deepEqual(problem.unavailable, [
      { sku: shortB, requested: initial.shortB + 1, available: initial.shortB },
      { sku: shortA, requested: initial.shortA + 5, available: initial.shortA },
    ].sort((a, b) => (a.sku < b.sku ? -1 : 1)));

    assert.equal(await client.available(plenty), initial.plenty, 'the line with stock was taken anyway');
    assert.equal(await client.available(shortA), initial.shortA);
    assert.equal(await client.available(shortB), initial.shortB);
  });

  void it('answers 404 naming unknown SKUs, and takes nothing', async () => {
    const sku = 'KETTLE-GOOSENECK';
    const initial = await client.available(sku);
    const answer = await client.reserve([{ sku, quantity: 1 }, { sku: 'NO-SUCH-1', quantity: 1 }, { sku: 'NO-SUCH-2', quantity: 2 }]);
    assert.equal(answer.status, 404);
    const problem = problemOf(answer);
    assert.equal(problem.code, 'not_found');
    assert.equal(problem.reason, 'unknown_sku');
    assert.deepEqual(problem.unknown, ['NO-SUCH-1', 'NO-SUCH-2']);
    assert.equal(await client.available(sku), initial);
  });

  void it('answers the same reservation again for the same order and items, without taking stock twice', async () => {
    const orderId = randomUUID();
    const lines = [{ sku: 'DRIPPER-CERAMIC', quantity: 2 }, { sku: 'FILTER-PAPER-100', quantity: 4 }];
    const initial = { dripper: await client.available('DRIPPER-CERAMIC'), filters: await client.available('FILTER-PAPER-100') };

    const first = await client.reserve(lines, { orderId });
    assert.equal(first.status, 201);
    const second = await client.reserve([...lines].reverse(), { orderId });
    assert.equal(second.status, 200, 'the same lines in another order are the same reservation');
    assert.deepEqual(second.body, first.body);
    assert.equal(second.headers.get('location'), null);

    assert.equal(await client.available('DRIPPER-CERAMIC'), initial.dripper - 2);
    assert.equal(await client.available('FILTER-PAPER-100'), initial.filters - 4);
  });

  void it('answers 422 when an order id comes back with other items', async () => {
    const orderId = randomUUID();
    const sku = 'FRENCH-PRESS-1L';
    const initial = await client.available(sku);
    assert.equal((await client.reserve([{ sku, quantity: 1 }], { orderId })).status, 201);

    for (const other of [
      [{ sku, quantity: 2 }],
      [{ sku, quantity: 1 }, { sku: 'MOKA-POT-6', quantity: 1 }],
      [{ sku: 'MOKA-POT-6', quantity: 1 }],
    ]) {
      const answer = await client.reserve(other, { orderId });
      assert.equal(answer.status, 422, JSON.stringify(other));
      assert.equal(problemOf(answer).code, 'failed_precondition');
      assert.equal(problemOf(answer).reason, 'reservation_mismatch');
    }
    assert.equal(await client.available(sku), initial - 1);
  });

  void it('confirms once and idempotently; a confirmed reservation can still be released', async () => {
    const sku = 'SCALE-DIGITAL';
    const initial = await client.available(sku);
    const orderId = randomUUID();
    assert.equal((await client.reserve([{ sku, quantity: 2 }], { orderId })).status, 201);

    for (let i = 0; i < 2; i += 1) {
      const confirmed = await client.confirm(orderId);
      assert.equal(confirmed.status, 200);
      assert.equal(confirmed.body.status, 'confirmed');
    }
    assert.equal(await client.available(sku), initial - 2, 'confirming changed the stock');

    const released = await client.release(orderId);
    assert.equal(released.status, 200);
    assert.equal(released.body.status, 'released');
    assert.equal(await client.available(sku), initial);
    assert.equal((await client.release(orderId)).status, 200);
    assert.equal(await client.available(sku), initial);
  });

  void it('refuses to confirm a released reservation with 409', async () => {
    const orderId = randomUUID();
    assert.equal((await client.reserve([{ sku: 'TEAPOT-CAST-IRON', quantity: 1 }], { orderId })).status, 201);
    assert.equal((await client.release(orderId)).status, 200);
    const answer = await client.confirm(orderId);
    assert.equal(answer.status, 409);
    assert.equal(problemOf(answer).code, 'aborted');
    assert.equal(problemOf(answer).reason, 'reservation_released');
  });

  void it('answers 404 for an order without a reservation', async () => {
    const orderId = randomUUID();
    for (const answer of [await client.reservation(orderId), await client.confirm(orderId), await client.release(orderId)]) {
      assert.equal(answer.status, 404);
      assert.match(answer.contentType, /^application\/problem\+json/);
      assert.equal(problemOf(answer).code, 'not_found');
    }
  });
});
