import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { trace } from '@opentelemetry/api';
import { Registry } from 'prom-client';
import { migrate, openPostgres, type Database } from '@baton/kit/db';
import { Code, KitError } from '@baton/kit/errors';
import { createOutbox, migrateMessaging } from '@baton/kit/messaging';
import { addCleanup, createSilentLogger, createTestDatabase } from '@baton/kit/testing';
import { setTimeout as sleep } from 'node:timers/promises';
import { cancelOrder } from '../src/checkout/cancel-order.ts';
import { startCancelReconciler } from '../src/checkout/cancel-reconciler.ts';
import { startCheckoutReconciler } from '../src/checkout/checkout-reconciler.ts';
import { findCheckout } from '../src/checkout/checkout-store.ts';
import { createIdempotencyStore } from '../src/checkout/idempotency.ts';
import { placeOrder, type CheckoutDeps } from '../src/checkout/place-order.ts';
import { createSagaObserver } from '../src/checkout/saga-observer.ts';
import type { InventoryApi, Payment, PaymentApi, Reservation, UsersApi } from '../src/upstreams/upstreams.ts';

// The saga's compensations that the whole-shop tests (test/e2e/checkout-payment.test.ts) cannot
// make happen at will, on a real PostgreSQL with inventory and payment faked: a hold that cannot
// be taken after the order was recorded, stock lost after the money was taken, a caller that goes
// away mid-checkout, a checkout the reconciler gives up.

const userId = '00000000-0000-4000-8000-000000000002';
const items = [{ sku: 'COFFEE-1KG', quantity: 1 }];
const options = { signal: new AbortController().signal };
const users: UsersApi = { getUser: async (id) => ({ id, email: 'a@example.com', name: 'A' }) };

function fakes({ inventory = {}, payment = {} }: { inventory?: Partial<InventoryApi>; payment?: Partial<PaymentApi> } = {}) {
  const calls: string[] = [];
  const reservation = (orderId: string, status: Reservation['status']): Reservation => ({
    orderId, status, items: [{ sku: 'COFFEE-1KG', quantity: 1, priceCents: 2490, currency: 'EUR', name: 'Coffee beans, 1 kg' }],
  });
  const paid = (status: Payment['status'], refundedCents = 0): Payment => ({ status, amountCents: 2490, currency: 'EUR', brand: 'visa', last4: '4242', refundedCents });
  const fakeInventory: InventoryApi = {
    reserve: async (orderId) => { calls.push('reserve'); return reservation(orderId, 'held'); },
    confirm: async (orderId) => { calls.push('confirm'); return reservation(orderId, 'confirmed'); },
    release: async (orderId) => { calls.push('release'); return reservation(orderId, 'released'); },
    ...inventory,
  };
  const fakePayment: PaymentApi = {
    authorize: async () => { calls.push('authorize'); return paid('authorized'); },
    capture: async () => { calls.push('capture'); return paid('captured'); },
    void: async () => { calls.push('void'); return paid('voided'); },
    refund: async () => { calls.push('refund'); return paid('refunded', 2490); },
    ...payment,
  };
  return { inventory: fakeInventory, payment: fakePayment, calls };
}

async function sagaWith(t: TestContext, { inventory, payment }: { inventory: InventoryApi; payment: PaymentApi }): Promise<(CheckoutDeps & { db: Database }) | undefined> {
  const url = await createTestDatabase(t);
  if (url === undefined) return undefined;
  const db = openPostgres({ url, applicationName: 'orders-saga-test' });
  addCleanup(t, () => db.close());
  await migrate(db, fileURLToPath(new URL('../migrations/', import.meta.url)));
  await migrateMessaging(db);
  const events = { outbox: createOutbox({ domain: 'orders' }), committed: () => {} };
  const logger = createSilentLogger('orders');
  const idempotency = createIdempotencyStore(db);
  const observer = createSagaObserver({ registry: new Registry(), tracer: trace.getTracer('saga-test') });
  return { db, idempotency, users, inventory, logger, events, saga: { db, idempotency, inventory, payment, events, logger, observer, compensationBudgetMs: 1_000 } };
}

const eventsOf = async (db: Database) => (await db.query<{ type: string; event: { data: { reason?: string } } }>('select type, event from baton_outbox order by position')).rows.map((row) => `${row.type}${row.event.data.reason ? ` ${row.event.data.reason}` : ''}`);

test('a hold that cannot be taken after the order was recorded: 402, the order cancelled, its payment voided, its stock released', async (t) => {
  const { inventory, payment, calls } = fakes({ payment: {
    capture: async () => { throw new KitError(Code.FailedPrecondition, 'a voided payment cannot be captured', { reason: 'payment_not_authorized' }); },
  } });
  const deps = await sagaWith(t, { inventory, payment });
  if (deps === undefined) return;
  const answer = await placeOrder(deps, { userId, idempotencyKey: 'saga-key-1', items, payment: { method: 'pm_card_visa' } }, options);
  assert.equal(answer.status, 402);
  assert.equal((answer.body as { reason: string }).reason, 'payment_declined');
  assert.deepEqual(calls.toSorted(), ['authorize', 'release', 'reserve', 'void'].toSorted());
  const { rows: [order] } = await deps.db.query<{ status: string; payment_status: string }>('select status, payment_status from orders');
  assert.deepEqual(order, { status: 'cancelled', payment_status: 'voided' });
  assert.deepEqual(await eventsOf(deps.db), ['order.created', 'order.cancelled payment_failed']);
  const again = await placeOrder(deps, { userId, idempotencyKey: 'saga-key-1', items, payment: { method: 'pm_card_visa' } }, options);
  assert.equal(again.status, 402, 'the key keeps the answer');
});

test('stock lost after the money was taken: the payment refunded, the order cancelled (reservation_lost)', async (t) => {
  const { inventory, payment, calls } = fakes({
    inventory: { confirm: async () => { throw new KitError(Code.Aborted, 'the reservation expired', { reason: 'reservation_expired' }); } },
    payment: { void: async () => { throw new KitError(Code.FailedPrecondition, 'a captured payment cannot be voided; refund it', { reason: 'payment_captured' }); } },
  });
  const deps = await sagaWith(t, { inventory, payment });
  if (deps === undefined) return;
  const answer = await placeOrder(deps, { userId, idempotencyKey: 'saga-key-2', items, payment: { method: 'pm_card_visa' } }, options);
  assert.equal(answer.status, 409, JSON.stringify(answer.body));
  assert.ok(calls.includes('refund'), `refunded: ${calls.join(', ')}`);
  const { rows: [order] } = await deps.db.query<{ status: string; payment_status: string; refunded_cents: string }>('select status, payment_status, refunded_cents from orders');
  assert.deepEqual(order, { status: 'cancelled', payment_status: 'refunded', refunded_cents: '2490' });
  assert.deepEqual(await eventsOf(deps.db), ['order.created', 'order.cancelled reservation_lost']);
});

test('the shopper cancels the order while its checkout is still taking the payment: the checkout\'s answer is the order, cancelled, not the failure the cancel caused', async (t) => {
  const shop: { db?: Database } = {};
  const { inventory, payment } = fakes({
    payment: {
      // The cancel lands as the money is taken: it refunds it and releases the stock (as cancel-order.ts does).
      capture: async (orderId) => {
        await shop.db!.query(`update orders set status = 'cancelled', cancelled_at = now(), updated_at = now() where id = $1`, [orderId]);
        return { status: 'captured', amountCents: 2490, currency: 'EUR', brand: 'visa', last4: '4242', refundedCents: 0 };
      },
    },
    inventory: { confirm: async () => { throw new KitError(Code.Aborted, 'the reservation was released', { reason: 'reservation_released' }); } },
  });
  const deps = await sagaWith(t, { inventory, payment });
  if (deps === undefined) return;
  shop.db = deps.db;
  const answer = await placeOrder(deps, { userId, idempotencyKey: 'saga-key-cancelled', items, payment: { method: 'pm_card_visa' } }, options);
  assert.equal(answer.status, 201, JSON.stringify(answer.body));
  assert.equal((answer.body as { status: string }).status, 'cancelled');
  const again = await placeOrder(deps, { userId, idempotencyKey: 'saga-key-cancelled', items, payment: { method: 'pm_card_visa' } }, options);
  assert.deepEqual([again.status, (again.body as { status: string }).status], [201, 'cancelled'], 'the key keeps the order as its answer');
  assert.deepEqual(await eventsOf(deps.db), ['order.created'], 'no second cancellation event from the saga (the shopper\'s cancel writes its own)');
});

test('the caller goes away while the payment is asked for: the checkout is given up (stock released, payment voided), and a retry with the same key is placed and paid, never answered 499', async (t) => {
  let hang = true;
  const { inventory, payment, calls } = fakes({ payment: {
    // The first authorisation hangs until its caller leaves (the gateway's deadline, a closed tab).
    authorize: async (_orderId, _input, { signal }) => {
      calls.push('authorize');
      if (hang) {
        await new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(new KitError(Code.Canceled, 'the caller went away')), { once: true }));
      }
      return { status: 'authorized', amountCents: 2490, currency: 'EUR', brand: 'visa', last4: '4242', refundedCents: 0 };
    },
  } });
  const deps = await sagaWith(t, { inventory, payment });
  if (deps === undefined) return;
  const caller = new AbortController();
  const first = placeOrder(deps, { userId, idempotencyKey: 'saga-key-gone', items, payment: { method: 'pm_card_visa' } }, { signal: caller.signal });
  while (!calls.includes('authorize')) await new Promise((resolve) => setTimeout(resolve, 5));
  caller.abort(new KitError(Code.Canceled, 'the caller went away'));
  const settled = await first.then((answer) => answer, (error: unknown) => error);
  assert.ok(settled instanceof Error && KitError.from(settled).code === Code.Unavailable, `a try-again error, not an answer: ${JSON.stringify(settled)}`);
  const { rows: [gone] } = await deps.db.query<{ step: string; failure: { status: number } }>('select step, failure from checkouts');
  assert.ok(gone!.failure.status >= 500, `kept as a try-again failure (${gone!.failure.status})`);
  assert.ok(calls.includes('release') && calls.includes('void'), `the stock released and the payment let go: ${calls.join(', ')}`);

  hang = false;
  let again = await placeOrder(deps, { userId, idempotencyKey: 'saga-key-gone', items, payment: { method: 'pm_card_visa' } }, options).catch((error: unknown) => error);
  // The key may still be being freed by the first request: the retry after it is placed.
  for (let i = 0; i < 50 && again instanceof Error; i++) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    again = await placeOrder(deps, { userId, idempotencyKey: 'saga-key-gone', items, payment: { method: 'pm_card_visa' } }, options).catch((error: unknown) => error);
  }
  assert.ok(!(again instanceof Error), `the retry is answered: ${String(again)}`);
  const answer = again as Awaited<ReturnType<typeof placeOrder>>;
  assert.equal(answer.status, 201, JSON.stringify(answer.body));
  assert.equal((answer.body as { status: string }).status, 'paid');
});

test('the database goes away as a checkout records its order: the request fails, and the retry with its key, once the database is back, gets the paid order within its own deadline (not the reconciler\'s, 10 s on)', async (t) => {
  let down = false;
  const { inventory, payment, calls } = fakes({ payment: {
    // PostgreSQL goes away while the payment is authorised: the order cannot be recorded, nor the checkout moved.
    authorize: async () => {
      calls.push('authorize');
      if (calls.filter((c) => c === 'authorize').length === 1) down = true;
      return { status: 'authorized', amountCents: 2490, currency: 'EUR', brand: 'visa', last4: '4242', refundedCents: 0 };
    },
  } });
  const deps = await sagaWith(t, { inventory, payment });
  if (deps === undefined) return;
  const unavailable = () => Promise.reject(new KitError(Code.Unavailable, 'the database is unavailable', { reason: 'database_unavailable' }));
  const db = {
    ...deps.db,
    query: (text: string, params?: readonly unknown[], o?: { signal?: AbortSignal }) => (down ? unavailable() : deps.db.query(text, params, o)),
    transaction: (work: Parameters<Database['transaction']>[0], o?: { signal?: AbortSignal }) => (down ? unavailable() : deps.db.transaction(work, o)),
  } as Database;
  const idempotency = createIdempotencyStore(db);
  const flaky = { ...deps, db, idempotency, saga: { ...deps.saga!, db, idempotency } };
  const input = { userId, idempotencyKey: 'saga-key-db-gone', items, payment: { method: 'pm_card_visa' } };

  await assert.rejects(placeOrder(flaky, input, options), (error: unknown) => KitError.from(error).reason === 'database_unavailable');
  const { rows: [held] } = await deps.db.query<{ state: string }>('select state from idempotency_keys');
  assert.equal(held?.state, 'started', 'the key is held: the checkout was written, and nothing could be recorded after');

  down = false;
  // The gateway's retry, with what is left of an 8 s checkout deadline. No reconciler runs here.
  const answer = await placeOrder(flaky, input, { signal: AbortSignal.timeout(4_000) });
  assert.equal(answer.status, 201, JSON.stringify(answer.body));
  assert.equal((answer.body as { status: string }).status, 'paid');
  const { rows: orders } = await deps.db.query<{ status: string; payment_status: string }>('select status, payment_status from orders');
  assert.deepEqual(orders, [{ status: 'paid', payment_status: 'captured' }], 'one order, paid');
  assert.deepEqual(calls.filter((c) => c === 'reserve' || c === 'capture'), ['reserve', 'capture'], `reserved and captured once: ${calls.join(', ')}`);
});

test('a checkout the reconciler cannot push past its pivot in time is given up: stock released, nothing held, its key freed', async (t) => {
  let providerDown = true;
  const { inventory, payment, calls } = fakes({ payment: {
    authorize: async () => { throw new KitError(Code.Unavailable, 'the provider is down'); },
    void: async () => {
      if (providerDown) throw new KitError(Code.Unavailable, 'the provider is down');
      calls.push('void');
      return { status: 'voided', amountCents: 2490, currency: 'EUR', brand: null, last4: null, refundedCents: 0 };
    },
  } });
  const deps = await sagaWith(t, { inventory, payment });
  if (deps === undefined) return;
  // The request gives the checkout up (503) and compensates what it can: the stock, not the money.
  await assert.rejects(placeOrder(deps, { userId, idempotencyKey: 'saga-key-3', items, payment: { method: 'pm_card_visa' } }, options),
    (error: unknown) => KitError.from(error).code === Code.Unavailable);
  const { rows: [row] } = await deps.db.query<{ order_id: string }>('select order_id from checkouts');
  const orderId = row!.order_id;
  assert.equal((await findCheckout(deps.db, orderId, options))?.step, 'compensating');
  assert.ok(calls.includes('release'), 'the stock is released at once');

  // The provider back, the reconciler finishes it.
  providerDown = false;
  const reconciler = startCheckoutReconciler(deps.saga!, { intervalMs: 20, staleAfterMs: 0, giveUpAfterMs: 0, callBudgetMs: 1_000 });
  addCleanup(t, () => reconciler.stop());
  for (let i = 0; i < 200 && (await findCheckout(deps.db, orderId, options))?.step !== 'failed'; i++) await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal((await findCheckout(deps.db, orderId, options))?.step, 'failed');
  assert.ok(calls.includes('void'), 'what the provider might hold is let go');
  assert.equal((await deps.db.query('select * from orders')).rowCount, 0, 'no order was recorded');
  assert.equal((await deps.db.query('select * from idempotency_keys')).rowCount, 0, 'the key is free: a retry places the order afresh');
});

test('a cancel cut short after the money went back (inventory down, and the shopper never asks again) is finished by the cancel reconciler: refunded, released, cancelled once', async (t) => {
  const inventoryDown = { now: false };
  const { inventory, payment, calls } = fakes({
    inventory: { release: async (orderId) => {
      if (inventoryDown.now) throw new KitError(Code.Unavailable, 'inventory cannot be reached');
      calls.push('release');
      return { orderId, status: 'released', items: [] };
    } },
    payment: { void: async () => { throw new KitError(Code.FailedPrecondition, 'a captured payment cannot be voided; refund it', { reason: 'payment_captured' }); } },
  });
  const deps = await sagaWith(t, { inventory, payment });
  if (deps === undefined) return;
  const placed = await placeOrder(deps, { userId, idempotencyKey: 'saga-key-cancel-cut', items, payment: { method: 'pm_card_visa' } }, options);
  assert.equal(placed.status, 201, JSON.stringify(placed.body));
  const orderId = (placed.body as { id: string }).id;

  inventoryDown.now = true;
  await assert.rejects(cancelOrder(deps, userId, orderId, options), (error: unknown) => KitError.from(error).code === Code.Unavailable);
  const { rows: [cut] } = await deps.db.query<{ status: string; asked: boolean }>('select status, cancel_requested_at is not null as asked from orders');
  assert.deepEqual(cut, { status: 'paid', asked: true }, 'the money went back, the order is not cancelled yet, and the cancel is written down');
  assert.ok(calls.includes('refund'));

  inventoryDown.now = false;
  const reconciler = startCancelReconciler(deps, { intervalMs: 50, graceSeconds: 0 });
  addCleanup(t, () => reconciler.stop());
  let order: { status: string; payment_status: string } | undefined;
  for (let i = 0; i < 100 && order?.status !== 'cancelled'; i++) {
    await sleep(50);
    order = (await deps.db.query<{ status: string; payment_status: string }>('select status, payment_status from orders')).rows[0];
  }
  assert.deepEqual(order, { status: 'cancelled', payment_status: 'refunded' });
  assert.ok(calls.includes('release'), 'its stock released');
  assert.deepEqual(await eventsOf(deps.db), ['order.created', 'order.cancelled customer_request']);
});
