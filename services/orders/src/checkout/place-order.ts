import type { Database } from '@baton/kit/db';
import { Code, KitError, httpStatusOf, toProblem } from '@baton/kit/errors';
import { markRetriesExhausted } from '@baton/kit/resilience';
import type { Logger } from '@baton/kit/telemetry';
import { addOrderCreated, type OrderEvents } from '../events/order-events.ts';
import { findOrder, insertOrder, lineTotalCents } from '../orders/repository.ts';
import { orderView, type Order } from '../orders/order.ts';
import type { CallOptions } from '../upstreams/call-options.ts';
import { withUnknownProductLines } from '../upstreams/out-of-stock.ts';
import type { InventoryApi, UsersApi } from '../upstreams/upstreams.ts';
import { beginCheckout, findCheckout, type Checkout } from './checkout-store.ts';
import { requestHash, type IdempotencyStore, type StoredResponse } from './idempotency.ts';
import { releaseQuietly } from './release-quietly.ts';
import { driveCheckout, isFinal, type SagaDeps } from './saga.ts';

export interface CheckoutDeps {
  db: Database;
  idempotency: IdempotencyStore;
  users: UsersApi;
  inventory: InventoryApi;
  logger: Logger;
  events: OrderEvents;
  /** Checkout with payment, when the shop takes payment (a payment service is configured). */
  saga?: SagaDeps | undefined;
}

export interface PlaceOrderInput {
  userId: string;
  idempotencyKey: string;
  items: Array<{ sku: string; quantity: number }>;
  /** How the shopper pays; required where the shop takes payment, refused where it does not. */
  payment?: { method: string } | undefined;
  /** The caller's W3C trace context, carried on to the order's events. */
  traceparent?: string | undefined;
}

/** Payment asked of a shop that takes none, or not given to one that does: the shopper's input. */
function checkPaymentInput(deps: CheckoutDeps, input: PlaceOrderInput): void {
  if (deps.saga !== undefined && input.payment === undefined) {
    throw new KitError(Code.InvalidArgument, 'say how to pay', { fields: [{ field: 'body.payment', message: 'required: how to pay, such as { "method": "pm_card_visa" }' }] });
  }
  if (deps.saga === undefined && input.payment !== undefined) {
    throw new KitError(Code.InvalidArgument, 'this shop takes no payment', { fields: [{ field: 'body.payment', message: 'this shop runs without a payment service; leave it out' }] });
  }
}

/**
 * Checkout. The first request with an Idempotency-Key does the work; the same key and body
 * later get the first answer again; a new body with the key gets 422.
 *
 * The steps, and why in this order: the user is checked, then the stock is reserved (held,
 * with a TTL, idempotent by order id), then the order is stored together with its answer in
 * one transaction with its `order.created` event (the outbox). If storing fails the reservation is released, and if even that fails the
 * held reservation expires by itself: stock cannot leak. Confirming the reservation comes
 * last and is retried by the reconciler if it fails now.
 */
export async function placeOrder(deps: CheckoutDeps, input: PlaceOrderInput, options: CallOptions): Promise<StoredResponse> {
  checkPaymentInput(deps, input);
  const items = [...input.items].sort((a, b) => a.sku.localeCompare(b.sku));
  const claim = await deps.idempotency.claim(input.userId, input.idempotencyKey, requestHash(input.payment === undefined ? { items } : { items, payment: input.payment }), options);
  if (claim.kind === 'replay') return claim.response;
  const { orderId, claimedAtMs } = claim;
  if (deps.saga !== undefined && input.payment !== undefined) return placePaidOrder(deps, deps.saga, { ...input, payment: input.payment }, claim, options);

  let reserved = false;
  try {
    const customer = await customerOf(deps, input.userId, options);
    const reservation = await deps.inventory.reserve(orderId, items, options);
    reserved = true;
    if (reservation.status !== 'held' && reservation.status !== 'confirmed') {
      // Only possible when a crashed attempt with this key is taken over after its hold lapsed.
      throw new KitError(Code.Aborted, 'the stock held for this order has lapsed; place it again with a new Idempotency-Key', { reason: 'reservation_lapsed' });
    }
    const placedAt = new Date().toISOString();
    const order: Order = {
      id: orderId,
      userId: input.userId,
      status: 'confirmed',
      items: reservation.items.map(({ sku, name, quantity, priceCents }) => ({ sku, name, quantity, priceCents })),
      totalCents: lineTotalCents(reservation.items),
      currency: reservation.items[0]?.currency ?? 'EUR',
      createdAt: placedAt,
      updatedAt: placedAt,
      cancelledAt: null,
      payment: null,
    };
    const response: StoredResponse = { status: 201, body: orderView(order) };
    // The order, its answer and its order.created event commit together, or none of them does.
    await deps.db.transaction(async (tx) => {
      await insertOrder(tx, order, options);
      await addOrderCreated(tx, deps.events, order, { email: customer.email, name: customer.name }, { ...options, traceparent: input.traceparent });
      await deps.idempotency.complete(input.userId, input.idempotencyKey, response, { ...options, tx });
    }, options);
    deps.events.committed();
    await confirmNow(deps, orderId, options);
    return response;
  } catch (error) {
    if (reserved) await releaseQuietly(deps, orderId);
    return answerFailure(deps, input, claimedAtMs, withUnknownProductLines(KitError.from(error), input.items));
  }
}

/** The shopper's account, which must still exist. */
async function customerOf(deps: CheckoutDeps, userId: string, options: CallOptions): Promise<{ email: string; name: string }> {
  try {
    const { email, name } = await deps.users.getUser(userId, options);
    return { email, name };
  } catch (error) {
    const kitError = KitError.from(error);
    if (kitError.code === Code.NotFound) throw new KitError(Code.Unauthenticated, 'this account no longer exists');
    throw kitError;
  }
}

/**
 * A checkout that failed before anything was left to finish. A final answer is kept for the
 * key; a "try again" one frees the key so the client's retry does the work (if the database is
 * what failed, as soon as it is back).
 */
async function answerFailure(deps: CheckoutDeps, input: PlaceOrderInput, claimedAtMs: number, kitError: KitError): Promise<StoredResponse> {
  if (isFinal(kitError)) {
    const response = { status: httpStatusOf(kitError.code, kitError.reason), body: toProblem(kitError) };
    await deps.idempotency.complete(input.userId, input.idempotencyKey, response, {});
    return response;
  }
  await deps.idempotency.settleSoon(input.userId, input.idempotencyKey, { claimedAtMs, onGiveUp: keyLeftToGoStale(deps) });
  throw kitError;
}

const keyLeftToGoStale = (deps: Pick<CheckoutDeps, 'logger'>) => (error: unknown) => deps.logger.warn({ err: error }, 'could not settle an idempotency key; it frees itself when stale');

/** Where a paid checkout stands for its shopper: the answer, or a "try again" failure whose key is to be freed. */
type PaidOutcome = { response: StoredResponse } | { givenUp: KitError };

/**
 * Checkout with payment: the saga (saga.ts), begun here or, when a retry takes over the key of
 * a request that died, taken up where that one left it. Once the checkout is written the key is
 * never freed while it is unfinished: a retry waits for its answer, which its driver (this
 * request, or the reconciler) keeps for the key, so a lost answer never makes a second order.
 *
 * A request cut short by a throw rather than an answer (a statement of its own failed as the
 * database went away, or its deadline cut one) leaves its key held, with or without a checkout
 * written, and a retry with the key (the gateway's, a second later) waits on it. The reconciler
 * takes such a checkout up only once it is stale (CHECKOUT_STALE_AFTER_MS), past that retry's
 * deadline: the retry waited 8 s for a 504 after PostgreSQL restarted (chaos `kill-postgres`).
 * So the request's own work goes on once the database answers (`settlePaidCheckout`).
 */
async function placePaidOrder(deps: CheckoutDeps, saga: SagaDeps, input: PlaceOrderInput & { payment: { method: string } }, claim: { orderId: string; claimedAtMs: number }, options: CallOptions): Promise<StoredResponse> {
  let outcome: PaidOutcome;
  try {
    outcome = await drivePaidCheckout(deps, saga, input, claim, options);
  } catch (error) {
    void deps.idempotency.settleSoon(input.userId, input.idempotencyKey, {
      claimedAtMs: claim.claimedAtMs, onGiveUp: keyLeftToGoStale(deps), settle: () => settlePaidCheckout(deps, saga, input, claim.orderId),
    });
    throw error;
  }
  return 'response' in outcome ? outcome.response : answerFailure(deps, input, claim.claimedAtMs, outcome.givenUp);
}

async function drivePaidCheckout(deps: CheckoutDeps, saga: SagaDeps, input: PlaceOrderInput & { payment: { method: string } }, claim: { orderId: string }, options: CallOptions): Promise<PaidOutcome> {
  let checkout = await findCheckout(deps.db, claim.orderId, options);
  if (checkout === undefined) {
    let customer: { email: string; name: string };
    try {
      customer = await customerOf(deps, input.userId, options);
    } catch (error) {
      return { givenUp: KitError.from(error) };
    }
    const begun = await beginCheckout(deps.db, {
      orderId: claim.orderId, userId: input.userId, idempotencyKey: input.idempotencyKey, items: input.items,
      paymentMethod: input.payment.method, customer, traceparent: input.traceparent,
    }, options);
    checkout = begun.checkout;
    if (begun.created) saga.observer.committed('reserving');
  }
  return outcomeOf(deps, input, await driveCheckout(saga, checkout, 'request', options), options);
}

/** The shopper's answer to a checkout as it was left by its driver; the answer kept for the key while the payment is taken. */
async function outcomeOf(deps: CheckoutDeps, input: PlaceOrderInput, checkout: Checkout, options: CallOptions): Promise<PaidOutcome> {
  if (checkout.failure !== null && (checkout.step === 'failed' || checkout.step === 'compensating')) {
    if (checkout.failure.status < 500) return { response: checkout.failure };
    // Orders already asked again (its clients retry, and the saga asks payment twice): marked
    // so, a caller does not multiply the attempts on a service that is down.
    return { givenUp: markRetriesExhausted(new KitError(checkout.failure.status === 504 ? Code.DeadlineExceeded : Code.Unavailable,
      'a service checkout needs could not be reached; nothing was charged, and the stock held for it is released: try again')) };
  }
  const order = checkout.step === 'reserving' || checkout.step === 'authorizing' ? undefined : await findOrder(deps.db, checkout.orderId, options);
  if (order === undefined) throw new KitError(Code.Unavailable, 'the checkout is being finished; send the same request again for its answer');
  const response = { status: 201, body: orderView(order) };
  // Paid orders' answers are kept as the payment is taken; one still being taken is answered as it stands.
  if (checkout.step === 'capturing') await deps.idempotency.complete(input.userId, input.idempotencyKey, response, {});
  return { response };
}

/**
 * The rest of a paid checkout whose request was cut short, done as the request would have done
 * it, once the database answers: with no checkout written, its key freed; with one, driven on
 * (given up before the pivot, pushed on after), then its answer kept for the key, or the key
 * freed when it was given up. Throws while that cannot be done yet.
 */
async function settlePaidCheckout(deps: CheckoutDeps, saga: SagaDeps, input: PlaceOrderInput, orderId: string): Promise<void> {
  const options = { signal: AbortSignal.timeout(saga.compensationBudgetMs) };
  const checkout = await findCheckout(deps.db, orderId, options);
  const outcome = checkout === undefined ? undefined : await outcomeOf(deps, input, await driveCheckout(saga, checkout, 'request', options), options);
  if (outcome === undefined || 'givenUp' in outcome) await deps.idempotency.release(input.userId, input.idempotencyKey, { ...options, orderId });
}

async function confirmNow(deps: CheckoutDeps, orderId: string, options: CallOptions): Promise<void> {
  try {
    await deps.inventory.confirm(orderId, options);
    await deps.db.query('update orders set reservation_confirmed = true where id = $1', [orderId]);
  } catch (error) {
    // The order stands; the held reservation keeps its stock until the reconciler confirms it.
    deps.logger.warn({ err: error, order_id: orderId }, 'reservation not confirmed yet; the reconciler will retry');
  }
}
