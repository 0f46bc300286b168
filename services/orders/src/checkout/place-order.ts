import type { Database } from '@baton/kit/db';
import { Code, KitError, httpStatusOf, toProblem } from '@baton/kit/errors';
import type { Logger } from '@baton/kit/telemetry';
import { addOrderCreated, type OrderEvents } from '../events/order-events.ts';
import { insertOrder, lineTotalCents } from '../orders/repository.ts';
import { orderView, type Order } from '../orders/order.ts';
import type { CallOptions } from '../upstreams/call-options.ts';
import { withUnknownProductLines } from '../upstreams/out-of-stock.ts';
import type { InventoryApi, UsersApi } from '../upstreams/upstreams.ts';
import { requestHash, type IdempotencyStore, type StoredResponse } from './idempotency.ts';
import { releaseQuietly } from './release-quietly.ts';

export interface CheckoutDeps {
  db: Database;
  idempotency: IdempotencyStore;
  users: UsersApi;
  inventory: InventoryApi;
  logger: Logger;
  events: OrderEvents;
}

export interface PlaceOrderInput {
  userId: string;
  idempotencyKey: string;
  items: Array<{ sku: string; quantity: number }>;
  /** The caller's W3C trace context, carried on to the order's events. */
  traceparent?: string | undefined;
}

/** Answers worth replaying for the same key: the request's own fault or a business conflict. */
function isFinal(error: KitError): boolean {
  const status = httpStatusOf(error.code, error.reason);
  return status >= 400 && status < 500 && error.code !== Code.Canceled && error.code !== Code.ResourceExhausted && error.code !== Code.DeadlineExceeded;
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
  const items = [...input.items].sort((a, b) => a.sku.localeCompare(b.sku));
  const claim = await deps.idempotency.claim(input.userId, input.idempotencyKey, requestHash({ items }), options);
  if (claim.kind === 'replay') return claim.response;
  const { orderId, claimedAtMs } = claim;

  let reserved = false;
  try {
    const customer = await deps.users.getUser(input.userId, options).catch((error: unknown) => {
      const kitError = KitError.from(error);
      if (kitError.code === Code.NotFound) throw new KitError(Code.Unauthenticated, 'this account no longer exists');
      throw kitError;
    });
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
    const kitError = withUnknownProductLines(KitError.from(error), input.items);
    if (reserved) await releaseQuietly(deps, orderId);
    if (isFinal(kitError)) {
      const response = { status: httpStatusOf(kitError.code, kitError.reason), body: toProblem(kitError) };
      await deps.idempotency.complete(input.userId, input.idempotencyKey, response, {});
      return response;
    }
    // A "try again" answer: free the key so the client's retry does the work (if the database
    // is what failed, as soon as it is back).
    await deps.idempotency.releaseSoon(input.userId, input.idempotencyKey, {
      claimedAtMs,
      onGiveUp: (releaseError) => deps.logger.warn({ err: releaseError }, 'could not free an idempotency key; it frees itself when stale'),
    });
    throw kitError;
  }
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
