import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import * as grpc from '@grpc/grpc-js';
import pg from 'pg';
import { createTestDatabase, testIdentity } from '@baton/kit/testing';
import { failure, inFiveSeconds, inventoryStubs, unary, type WireProduct } from './support/grpc-stub.ts';
import { startInventory } from './support/inventory.ts';

void describe('inventory over gRPC, with a stock @grpc/grpc-js client', () => {
  test('a normal call succeeds; an unknown product is NOT_FOUND; a bad SKU is INVALID_ARGUMENT', async (t) => {
    const inventory = await startInventory();
    t.after(() => inventory.stop());
    const stubs = inventoryStubs(inventory.service.grpcUrl ?? assert.fail('no gRPC listener'));
    t.after(() => stubs.close());

    const { product } = await unary<{ product: WireProduct }>((cb) => stubs.inventory.GetProduct({ sku: 'COFFEE-1KG' }, inFiveSeconds(), cb));
    assert.equal(product.sku, 'COFFEE-1KG');
    assert.equal(product.priceCents, 2490);
    assert.equal(product.currency, 'EUR');
    // The same product as the HTTP route shows: one domain behind both edges.
    const overHttp = await (await fetch(new URL('/v1/products/COFFEE-1KG', inventory.url), { headers: await testIdentity.headers('gateway', 'inventory') })).json() as WireProduct;
    const { sku, name, priceCents, currency, available } = overHttp;
    assert.deepEqual({ ...product }, { sku, name, priceCents, currency, available }, 'checkout\'s fields: the catalogue\'s others are not in the message');

    const orderId = randomUUID();
    const reserved = await unary<{ reservation: { orderId: string; status: string }; created: boolean }>((cb) =>
      stubs.inventory.CreateReservation({ orderId, items: [{ sku: 'COFFEE-1KG', quantity: 2 }] }, inFiveSeconds(), cb));
    assert.equal(reserved.created, true);
    assert.equal(reserved.reservation.status, 'RESERVATION_STATUS_HELD');

    const missing = await failure((cb) => stubs.inventory.GetProduct({ sku: 'NO-SUCH-SKU' }, inFiveSeconds(), cb));
    assert.equal(missing.code, grpc.status.NOT_FOUND);
    assert.equal(missing.details, 'no such product');
    const unknownLine = await failure((cb) => stubs.inventory.CreateReservation({ orderId: randomUUID(), items: [{ sku: 'NO-SUCH-SKU', quantity: 1 }] }, inFiveSeconds(), cb));
    assert.equal(unknownLine.code, grpc.status.NOT_FOUND);
    const bad = await failure((cb) => stubs.inventory.GetProduct({ sku: 'lower case' }, inFiveSeconds(), cb));
    assert.equal(bad.code, grpc.status.INVALID_ARGUMENT);
  });

  test('a deadline shorter than the work gets DEADLINE_EXCEEDED, and the database query is cancelled on the server', async (t) => {
    // PostgreSQL, because the proof is on the database server: a reservation waits on a row lock
    // this test holds, and once the deadline passes, no query of inventory waits any more.
    const held: { inventory?: Awaited<ReturnType<typeof startInventory>>; locker?: pg.Client } = {};
    // Registered before the database's own clean-up, which runs after it and drops the database.
    t.after(async () => {
      await held.locker?.end();
      await held.inventory?.stop();
    });
    const url = await createTestDatabase(t);
    if (url === undefined) return;
    const inventory = held.inventory = await startInventory({ DATABASE_URL: url });
    const stubs = inventoryStubs(inventory.service.grpcUrl ?? assert.fail('no gRPC listener'));
    t.after(() => stubs.close());
    const lockerClient = held.locker = new pg.Client({ connectionString: url, application_name: 'test-locker' });
    await lockerClient.connect();

    await lockerClient.query('begin');
    await lockerClient.query(`select stock from products where sku = 'COFFEE-250G' for update`);
    const waitingQueries = async () => Number((await lockerClient.query<{ n: string }>(
      `select count(*) as n from pg_stat_activity where datname = current_database() and application_name = 'inventory' and wait_event_type = 'Lock'`)).rows[0]?.n);

    const orderId = randomUUID();
    const expired = await failure((cb) => stubs.inventory.CreateReservation({ orderId, items: [{ sku: 'COFFEE-250G', quantity: 1 }] }, { deadline: Date.now() + 300 }, cb));
    assert.equal(expired.code, grpc.status.DEADLINE_EXCEEDED);

    // The lock is still held, so a query that had not been cancelled would still be waiting on
    // it. pg_cancel_backend works asynchronously: look a few times before concluding.
    let waiting = await waitingQueries();
    for (let look = 0; look < 50 && waiting > 0; look++) {
      await sleep(100);
      waiting = await waitingQueries();
    }
    assert.equal(waiting, 0, 'no query of inventory waits on the lock: the server cancelled it');
    await lockerClient.query('rollback');

    // And the work was undone, not finished late: the order has no reservation.
    const none = await failure((cb) => stubs.inventory.GetReservation({ orderId }, inFiveSeconds(), cb));
    assert.equal(none.code, grpc.status.NOT_FOUND);
  });

  test('health: SERVING, then NOT_SERVING once shutdown starts, to Check and to Watch', async (t) => {
    // A drain delay keeps the listener open after readiness turns false, as under a load balancer.
    const inventory = await startInventory({ SHUTDOWN_DRAIN_DELAY_MS: '1000' });
    t.after(() => inventory.stop());
    const stubs = inventoryStubs(inventory.service.grpcUrl ?? assert.fail('no gRPC listener'));
    t.after(() => stubs.close());

    assert.deepEqual(await unary((cb) => stubs.health.Check({ service: '' }, inFiveSeconds(), cb)), { status: 'SERVING' });
    assert.deepEqual(await unary((cb) => stubs.health.Check({ service: 'baton.inventory.v1.InventoryService' }, inFiveSeconds(), cb)), { status: 'SERVING' });
    const unknown = await failure((cb) => stubs.health.Check({ service: 'no.such.Service' }, inFiveSeconds(), cb));
    assert.equal(unknown.code, grpc.status.NOT_FOUND);

    const watch = stubs.health.Watch({ service: '' });
    const seen: string[] = [];
    const ended = new Promise<void>((resolve, reject) => {
      watch.on('data', (message: { status: string }) => seen.push(message.status));
      watch.on('end', () => resolve());
      watch.on('error', reject);
    });
    while (seen.length === 0) await sleep(10);
    assert.deepEqual(seen, ['SERVING']);

    const shutdown = inventory.service.shutdown('test: shutdown starts');
    assert.deepEqual(await unary((cb) => stubs.health.Check({ service: '' }, inFiveSeconds(), cb)), { status: 'NOT_SERVING' });
    await ended;
    assert.deepEqual(seen, ['SERVING', 'NOT_SERVING'], 'the watch heard the change, then ended so the server can drain');
    assert.deepEqual(await shutdown, { clean: true });
  });
});
