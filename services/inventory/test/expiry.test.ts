import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { createClient, eventually, problemOf, type Client } from './support/http.ts';
import { startInventory, type TestInventory } from './support/inventory.ts';

void describe('reservation expiry', () => {
  let inventory: TestInventory;
  let client: Client;

  before(async () => {
    inventory = await startInventory({ RESERVATION_TTL_SECONDS: '1', RESERVATION_SWEEP_INTERVAL_MS: '50' });
    client = createClient(inventory.url);
  });
  after(async () => {
    await inventory?.stop();
  });

  void it('gives the stock of an unconfirmed reservation back after its TTL, once', async () => {
    const sku = 'CANISTER-AIRTIGHT';
    const initial = await client.available(sku);
    const orderId = randomUUID();
    const reserved = await client.reserve([{ sku, quantity: 5 }], { orderId });
    assert.equal(reserved.status, 201);
    assert.equal(await client.available(sku), initial - 5);

    await eventually(async () => (await client.available(sku)) === initial, { what: 'the stock coming back' });

    const shown = await client.reservation(orderId);
    assert.equal(shown.body.status, 'expired');

    const confirmed = await client.confirm(orderId);
    assert.equal(confirmed.status, 409);
    assert.equal(problemOf(confirmed).code, 'aborted');
    assert.equal(problemOf(confirmed).reason, 'reservation_expired');

    const released = await client.release(orderId);
    assert.equal(released.status, 200);
    assert.equal(released.body.status, 'expired');
    assert.equal(await client.available(sku), initial, 'releasing an expired reservation returned its stock again');

    const again = await client.reserve([{ sku, quantity: 5 }], { orderId });
    assert.equal(again.status, 200, 'reserving an expired order again answers with what happened');
    assert.equal(again.body.status, 'expired');
    assert.equal(await client.available(sku), initial);
  });

  void it('keeps the stock of a reservation confirmed in time', async () => {
    const sku = 'INFUSER-STEEL';
    const initial = await client.available(sku);
    const confirmedId = randomUUID();
    const reserved = await client.reserve([{ sku, quantity: 2 }], { orderId: confirmedId, ttlSeconds: 3 });
    assert.equal(reserved.status, 201);
    assert.equal((await client.confirm(confirmedId)).body.status, 'confirmed');
    // A held reservation beside it, to know when the sweeper has passed its expiry too.
    const heldId = randomUUID();
    assert.equal((await client.reserve([{ sku, quantity: 1 }], { orderId: heldId, ttlSeconds: 3 })).status, 201);

    await eventually(async () => (await client.available(sku)) === initial - 2, { what: 'the held reservation expiring' });

    assert.equal((await client.reservation(confirmedId)).body.status, 'confirmed');
    assert.equal(await client.available(sku), initial - 2);
  });
});
