import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { migrate, openPostgres, type Database } from '@baton/kit/db';
import { Code, KitError } from '@baton/kit/errors';
import { createOutbox, migrateMessaging } from '@baton/kit/messaging';
import { addCleanup, createSilentLogger, createTestDatabase } from '@baton/kit/testing';
import { createIdempotencyStore } from '../src/checkout/idempotency.ts';
import { cancelOrder } from '../src/checkout/cancel-order.ts';
import { placeOrder, type CheckoutDeps } from '../src/checkout/place-order.ts';
import type { InventoryApi, Reservation, UsersApi } from '../src/upstreams/upstreams.ts';

// Checkout's own rules, on a real PostgreSQL (a fresh database per test) with the two upstreams
// faked: what happens to the stock and the key when a step fails is the point here, not the network.

const userId = '00000000-0000-4000-8000-000000000001';
const items = [{ sku: 'COFFEE-1KG', quantity: 2 }];
const options = { signal: new AbortController().signal };

function fakeInventory(overrides: Partial<InventoryApi> = {}) {
  const calls: string[] = [];
  const reservation = (orderId: string, status: Reservation['status']): Reservation => ({
    orderId, status, items: [{ sku: 'COFFEE-1KG', quantity: 2, priceCents: 2490, currency: 'EUR', name: 'Coffee beans, 1 kg' }],
  });
  const inventory: InventoryApi = {
    reserve: async (orderId) => { calls.push('reserve'); return reservation(orderId, 'held'); },
    confirm: async (orderId) => { calls.push('confirm'); return reservation(orderId, 'confirmed'); },
    release: async (orderId) => { calls.push('release'); return reservation(orderId, 'released'); },
    ...overrides,
  };
  return { inventory, calls };
}

const users: UsersApi = { getUser: async (id) => ({ id, email: 'a@example.com', name: 'A' }) };

/** Checkout's dependencies on a fresh database of the test's own; undefined when the test was skipped. */
async function checkoutWith(t: TestContext, inventory: InventoryApi): Promise<(CheckoutDeps & { db: Database }) | undefined> {
  const url = await createTestDatabase(t);
  if (url === undefined) return undefined;
  const database = openPostgres({ url, applicationName: 'orders-checkout-test' });
  addCleanup(t, () => database.close());
  await migrate(database, fileURLToPath(new URL('../migrations/', import.meta.url)));
  await migrateMessaging(database);
  const events = { outbox: createOutbox({ domain: 'orders' }), committed: () => {} };
  return { db: database, idempotency: createIdempotencyStore(database), users, inventory, logger: createSilentLogger('orders'), events };
}

test('an order is stored with the reserved prices and its reservation confirmed', async (t) => {
  const { inventory, calls } = fakeInventory();
  const deps = await checkoutWith(t, inventory);
  if (deps === undefined) return;
  const answer = await placeOrder(deps, { userId, idempotencyKey: 'key-00000001', items }, options);
  assert.equal(answer.status, 201);
  assert.equal((answer.body as { totalCents: number }).totalCents, 4980);
  assert.deepEqual(calls, ['reserve', 'confirm']);
  const { rows } = await deps.db.query<{ reservation_confirmed: boolean }>('select reservation_confirmed from orders');
  assert.deepEqual(rows, [{ reservation_confirmed: true }]);
  // Its order.created event was written with it, in the outbox, carrying what a consumer needs.
  const outbox = await deps.db.query<{ type: string; aggregate_id: string; event: { data: { customer: { email: string }; totalCents: number }; subjectseq: number } }>(
    'select type, aggregate_id, event from baton_outbox');
  assert.equal(outbox.rows.length, 1);
  assert.equal(outbox.rows[0]?.type, 'order.created');
  assert.equal(outbox.rows[0]?.aggregate_id, (answer.body as { id: string }).id);
  assert.equal(outbox.rows[0]?.event.data.customer.email, 'a@example.com');
  assert.equal(outbox.rows[0]?.event.data.totalCents, 4980);
  assert.equal(outbox.rows[0]?.event.subjectseq, 1);
});

test('if storing the order fails after the reservation, the reservation is released and the key freed', async (t) => {
  const { inventory, calls } = fakeInventory();
  const deps = await checkoutWith(t, inventory);
  if (deps === undefined) return;
  // The orders table refuses inserts: storing fails after the stock was reserved.
  await deps.db.exec(`create function refuse() returns trigger language plpgsql as $$ begin raise exception 'disk full'; end $$;
    create trigger refuse_orders before insert on orders for each row execute function refuse();`);
  await assert.rejects(placeOrder(deps, { userId, idempotencyKey: 'key-00000002', items }, options), (error: unknown) => KitError.from(error).code === Code.Internal);
  assert.deepEqual(calls, ['reserve', 'release']);
  const keys = await deps.db.query('select * from idempotency_keys');
  assert.equal(keys.rowCount, 0, 'the key is free for a retry');
  const outbox = await deps.db.query('select * from baton_outbox');
  assert.equal(outbox.rows.length, 0, 'no event announces an order that was never stored');
});

test('if writing the event fails, the order is not stored either', async (t) => {
  const { inventory, calls } = fakeInventory();
  const deps = await checkoutWith(t, inventory);
  if (deps === undefined) return;
  await deps.db.exec(`create function refuse() returns trigger language plpgsql as $$ begin raise exception 'disk full'; end $$;
    create trigger refuse_events before insert on baton_outbox for each row execute function refuse();`);
  await assert.rejects(placeOrder(deps, { userId, idempotencyKey: 'key-00000007', items }, options), (error: unknown) => KitError.from(error).code === Code.Internal);
  assert.deepEqual(calls, ['reserve', 'release']);
  assert.equal((await deps.db.query('select * from orders')).rows.length, 0, 'the order rolled back with its event');
});

test('a business conflict is a final answer: stored with the key and replayed, with no second reservation', async (t) => {
  let reserves = 0;
  const { inventory } = fakeInventory({
    reserve: async () => {
      reserves += 1;
      throw new KitError(Code.Aborted, 'out of stock: COFFEE-1KG', { reason: 'out_of_stock', details: { unavailable: [{ sku: 'COFFEE-1KG', requested: 2, available: 0 }] } });
    },
  });
  const deps = await checkoutWith(t, inventory);
  if (deps === undefined) return;
  const first = await placeOrder(deps, { userId, idempotencyKey: 'key-00000003', items }, options);
  const again = await placeOrder(deps, { userId, idempotencyKey: 'key-00000003', items }, options);
  assert.equal(first.status, 409);
  assert.equal(first.replayed, undefined, 'the first answer is not a replay');
  assert.deepEqual(again, { ...first, replayed: true }, 'the same answer, said to be a replay');
  assert.deepEqual((first.body as { unavailable: unknown }).unavailable, [{ sku: 'COFFEE-1KG', requested: 2, available: 0 }]);
  assert.equal(reserves, 1);
});

test('a dependency that is down frees the key, so the same request can succeed later', async (t) => {
  let down = true;
  const { inventory } = fakeInventory();
  const flaky: InventoryApi = {
    ...inventory,
    reserve: async (orderId, lines, o) => {
      if (down) throw new KitError(Code.Unavailable, 'a dependency is unavailable');
      return inventory.reserve(orderId, lines, o);
    },
  };
  const deps = await checkoutWith(t, flaky);
  if (deps === undefined) return;
  await assert.rejects(placeOrder(deps, { userId, idempotencyKey: 'key-00000004', items }, options), (error: unknown) => KitError.from(error).code === Code.Unavailable);
  down = false;
  const answer = await placeOrder(deps, { userId, idempotencyKey: 'key-00000004', items }, options);
  assert.equal(answer.status, 201);
});

test('a key whose release fails while the database is down is freed once it is back: the retry does the work at once', async (t) => {
  const { inventory } = fakeInventory();
  const deps = await checkoutWith(t, inventory);
  if (deps === undefined) return;
  // The database goes away after the key was claimed: the order cannot be stored, nor the key freed.
  let down = false;
  const flakyDb = {
    ...deps.db,
    query: (text: string, params?: readonly unknown[], o?: { signal?: AbortSignal }) =>
      down ? Promise.reject(new KitError(Code.Unavailable, 'the database is unavailable', { reason: 'database_unavailable' })) : deps.db.query(text, params, o),
    transaction: () => Promise.reject(new KitError(Code.Unavailable, 'the database is unavailable', { reason: 'database_unavailable' })),
  } as Database;
  const idempotency = createIdempotencyStore(flakyDb);
  const { inventory: reserveThenFail } = fakeInventory({
    reserve: async (orderId, lines, o) => {
      down = true;
      return inventory.reserve(orderId, lines, o);
    },
  });
  await assert.rejects(placeOrder({ ...deps, db: flakyDb, idempotency, inventory: reserveThenFail }, { userId, idempotencyKey: 'key-00000008', items }, options),
    (error: unknown) => KitError.from(error).code === Code.Unavailable);
  assert.equal((await deps.db.query(`select * from idempotency_keys where state = 'started'`)).rowCount, 1, 'the key is still held: its release failed');
  down = false;
  // Freed in the background once the database answers (the first retry waits 250 ms).
  for (let i = 0; i < 100 && (await deps.db.query('select * from idempotency_keys')).rowCount !== 0; i++) await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal((await deps.db.query('select * from idempotency_keys')).rowCount, 0, 'the key was freed');
  const startedAt = performance.now();
  const answer = await placeOrder(deps, { userId, idempotencyKey: 'key-00000008', items }, options);
  assert.equal(answer.status, 201);
  assert.ok(performance.now() - startedAt < 5_000, 'not after waiting for the key to go stale (30 s)');
});

test('a confirmation that fails leaves the order standing for the reconciler', async (t) => {
  const { inventory } = fakeInventory({ confirm: async () => { throw new KitError(Code.Unavailable, 'down'); } });
  const deps = await checkoutWith(t, inventory);
  if (deps === undefined) return;
  const answer = await placeOrder(deps, { userId, idempotencyKey: 'key-00000005', items }, options);
  assert.equal(answer.status, 201);
  const { rows } = await deps.db.query<{ status: string; reservation_confirmed: boolean }>('select status, reservation_confirmed from orders');
  assert.deepEqual(rows, [{ status: 'confirmed', reservation_confirmed: false }]);
});

test('the same key with another body is refused with 422 (failed_precondition)', async (t) => {
  const { inventory } = fakeInventory();
  const deps = await checkoutWith(t, inventory);
  if (deps === undefined) return;
  await placeOrder(deps, { userId, idempotencyKey: 'key-00000006', items }, options);
  await assert.rejects(
    placeOrder(deps, { userId, idempotencyKey: 'key-00000006', items: [{ sku: 'COFFEE-1KG', quantity: 3 }] }, options),
    (error: unknown) => KitError.from(error).code === Code.FailedPrecondition,
  );
});

test('a key claimed so long ago that a retry may have taken it over is not freed: it is left to go stale', async (t) => {
  const { inventory } = fakeInventory();
  const deps = await checkoutWith(t, inventory);
  if (deps === undefined) return;
  const claim = await deps.idempotency.claim(userId, 'key-00000011', 'hash', options);
  assert.equal(claim.kind, 'owner');
  const gaveUp: unknown[] = [];
  // Claimed 60 s ago by the clock settleSoon counts from: past 0.8 of the 30 s staleness.
  await deps.idempotency.settleSoon(userId, 'key-00000011', { claimedAtMs: performance.now() - 60_000, onGiveUp: (error) => gaveUp.push(error) });
  assert.equal(gaveUp.length, 1, 'it said it gave up');
  assert.equal((await deps.db.query(`select * from idempotency_keys where state = 'started'`)).rowCount, 1, 'the key is still held');
  // One claimed just now is freed.
  await deps.idempotency.settleSoon(userId, 'key-00000011', { claimedAtMs: performance.now() });
  assert.equal((await deps.db.query('select * from idempotency_keys')).rowCount, 0, 'freed');
});

test('a cancel is written down on the order in the statement that reads it, and only on the owner\'s: a stranger gets 404 and marks nothing', async (t) => {
  const { inventory, calls } = fakeInventory();
  const deps = await checkoutWith(t, inventory);
  if (deps === undefined) return;
  const placed = await placeOrder(deps, { userId, idempotencyKey: 'key-00000012', items }, options);
  const orderId = (placed.body as { id: string }).id;
  const marked = async () => (await deps.db.query<{ marked: boolean }>('select cancel_requested_at is not null as marked from orders where id = $1', [orderId])).rows[0]?.marked;

  const stranger = '00000000-0000-4000-8000-000000000099';
  await assert.rejects(cancelOrder(deps, stranger, orderId, options), (error: unknown) => KitError.from(error).code === Code.NotFound);
  assert.equal(await marked(), false, 'a stranger\'s cancel marks nothing');

  // The owner's cancel is written down before inventory is asked: it fails there, and stays asked for (the cancel reconciler's to finish).
  const down = { ...deps, inventory: { ...inventory, release: async () => { throw new KitError(Code.Unavailable, 'inventory is down'); } } };
  await assert.rejects(cancelOrder(down, userId, orderId, options), (error: unknown) => KitError.from(error).code === Code.Unavailable);
  assert.equal(await marked(), true, 'the owner\'s cancel is written down');
  const cancelled = await cancelOrder(deps, userId, orderId, options);
  assert.equal(cancelled.status, 'cancelled');
  assert.ok(calls.includes('release'));
});
