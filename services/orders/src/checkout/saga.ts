import { setTimeout as sleep } from 'node:timers/promises';
import type { Database, Queryable } from '@baton/kit/db';
import { Code, KitError, httpStatusOf, toProblem } from '@baton/kit/errors';
import type { Logger } from '@baton/kit/telemetry';
import { addOrderCancelled, addOrderCreated, type OrderEvents } from '../events/order-events.ts';
import { findOrder, insertOrder, lineTotalCents, setOrderPayment } from '../orders/repository.ts';
import { orderView, type Order } from '../orders/order.ts';
import type { CallOptions } from '../upstreams/call-options.ts';
import { withUnknownProductLines } from '../upstreams/out-of-stock.ts';
import type { InventoryApi, PaymentApi } from '../upstreams/upstreams.ts';
import { beforeThePivot, findCheckout, moveCheckout, type Checkout, type CheckoutStep } from './checkout-store.ts';
import type { IdempotencyStore, StoredResponse } from './idempotency.ts';
import type { SagaObserver } from './saga-observer.ts';

export interface SagaDeps {
  db: Database;
  idempotency: IdempotencyStore;
  inventory: InventoryApi;
  payment: PaymentApi;
  events: OrderEvents;
  logger: Logger;
  observer: SagaObserver;
  /** The longest one compensating call may take: its own budget, as the request's may be spent. */
  compensationBudgetMs: number;
}

/**
 * Who drives: the shopper's request, which gives up what it cannot finish before the order is
 * recorded (503, stock released, the payment let go), or the reconciler, which takes up a
 * checkout whose driver died and pushes it on, trying again on its next pass when a call fails.
 */
export type Driver = 'request' | 'reconciler';

/** Answers worth keeping for the Idempotency-Key: the request's own fault or a business one. */
export function isFinal(error: KitError): boolean {
  const status = httpStatusOf(error.code, error.reason);
  return status >= 400 && status < 500 && error.code !== Code.Canceled && error.code !== Code.ResourceExhausted && error.code !== Code.DeadlineExceeded;
}

const answerOf = (error: KitError): StoredResponse => ({ status: httpStatusOf(error.code, error.reason), body: toProblem(error) });

/** The payment service's words for "this payment will not be taken", when capturing. */
const notCapturable = new Set(['payment_declined', 'payment_not_authorized', 'payment_voided']);

/** A method the provider does not know, or a product the shop does not have, is the shopper's input, named by its field. */
function shopperError(error: KitError, checkout: Checkout): KitError {
  if (error.reason !== 'unknown_payment_method') return withUnknownProductLines(error, checkout.items);
  return new KitError(Code.InvalidArgument, 'no such payment method', {
    fields: [{ field: 'body.payment.method', message: 'not a payment method the provider knows' }], cause: error,
  });
}

/**
 * Drives one checkout with payment as far as it goes now: reserve stock → authorise the payment
 * → record the order (with its order.created event) → capture → confirm the stock. Each step's
 * state is written before the next call, and every call is idempotent by order id, so whoever
 * drives next (a retry, the reconciler after a crash) repeats at most one call, harmlessly.
 *
 * A business failure (out of stock, a declined card, a lapsed hold) is compensated in reverse:
 * the payment voided (refunded if it was taken), the stock released, a recorded order cancelled.
 * An unknown outcome (a call timed out) is settled by asking again with the same key, never by
 * doing the step twice. Written by hand: it is the heart of what Baton shows.
 *
 * Returns the checkout as it was left: done, failed, or part-way when a call could not be made
 * now (the reconciler goes on from there).
 */
export async function driveCheckout(deps: SagaDeps, start: Checkout, driver: Driver, options: CallOptions): Promise<Checkout> {
  let checkout = start;
  // Each turn moves it one step on; a few more than the steps, for moves another driver made first.
  for (let turn = 0; turn < 12; turn++) {
    const next = await stepOnce(deps, checkout, driver, options);
    if (next === 'stay') return checkout;
    if (next === 'moved elsewhere') {
      const now = await findCheckout(deps.db, checkout.orderId, { signal: AbortSignal.timeout(deps.compensationBudgetMs) });
      if (now === undefined) return checkout;
      checkout = now;
    } else {
      const from = checkout.step;
      checkout = next;
      if (driver === 'request' && checkout.step === 'compensating' && (checkout.failure?.status ?? 0) >= 500) return giveBackSoon(deps, checkout, from);
    }
    if (checkout.step === 'done' || checkout.step === 'failed') return checkout;
  }
  return checkout;
}

/** How long a request gives up on a checkout waits for its stock to be released before it answers. */
const releaseWaitMs = 1_000;

/**
 * A request gives up a checkout it could not finish (a service down): it answers 503 without
 * waiting on the service that is down. The compensation goes on behind the answer (and, if it
 * cannot be made, with the reconciler). Given up at authorising, the stock is most likely back
 * within a moment (inventory answered a moment ago), so the answer waits up to a second for it;
 * given up at reserving, inventory is what failed, and nothing is waited for.
 */
async function giveBackSoon(deps: SagaDeps, checkout: Checkout, givenUpAt: CheckoutStep): Promise<Checkout> {
  const compensation = compensate(deps, checkout).catch((error: unknown) => {
    deps.logger.warn({ err: error, order_id: checkout.orderId }, 'a checkout could not be compensated yet; the reconciler will go on with it');
  });
  if (givenUpAt !== 'reserving') await Promise.race([compensation, sleep(releaseWaitMs, undefined, { ref: false })]);
  return checkout;
}

/** The checkout one step on; `stay` when it cannot move now; `moved elsewhere` when another driver moved it first. */
type StepResult = Checkout | 'stay' | 'moved elsewhere';

async function stepOnce(deps: SagaDeps, checkout: Checkout, driver: Driver, options: CallOptions): Promise<StepResult> {
  const { observer } = deps;
  const { orderId } = checkout;
  try {
    switch (checkout.step) {
      case 'reserving': {
        const items = [...checkout.items].sort((a, b) => a.sku.localeCompare(b.sku));
        const reservation = await observer.step('reserve', () => deps.inventory.reserve(orderId, items, options));
        if (reservation.status !== 'held' && reservation.status !== 'confirmed') {
          // Only when a checkout is taken up after its hold lapsed.
          throw new KitError(Code.Aborted, 'the stock held for this order has lapsed; place it again with a new Idempotency-Key', { reason: 'reservation_lapsed' });
        }
        return await move(deps, checkout, 'authorizing', { reserved: reservation.items });
      }
      case 'authorizing': {
        const reserved = checkout.reserved ?? [];
        const input = { amountCents: lineTotalCents(reserved), currency: reserved[0]?.currency ?? 'EUR', method: checkout.paymentMethod };
        const payment = await observer.step('authorize', () => askAgainOnce(() => deps.payment.authorize(orderId, input, options), options));
        // The pivot: the order is recorded, with its event, as the checkout moves on to capture.
        const order = recordedOrder(checkout, { brand: payment.brand, last4: payment.last4 });
        return await move(deps, checkout, 'capturing', {}, async (tx) => {
          await insertOrder(tx, order, {});
          await addOrderCreated(tx, deps.events, order, checkout.customer, { traceparent: checkout.traceparent });
        });
      }
      case 'capturing': {
        try {
          await observer.step('capture', () => askAgainOnce(() => deps.payment.capture(orderId, options), options));
        } catch (error) {
          const kitError = KitError.from(error);
          // Held but not taken (the hold expired, or the shopper cancelled first): the order cannot be paid.
          if (kitError.reason !== undefined && notCapturable.has(kitError.reason)) {
            throw new KitError(Code.FailedPrecondition, 'the payment could not be taken; nothing was charged', { reason: 'payment_declined', cause: kitError });
          }
          throw kitError;
        }
        return await move(deps, checkout, 'confirming', {}, async (tx) => {
          const paid = await setOrderPayment(tx, orderId, { status: 'captured' }, { from: ['pending'], to: 'paid' }, {});
          // The shopper's answer from now on, whoever got this far: the paid order.
          if (paid !== undefined) await deps.idempotency.complete(checkout.userId, checkout.idempotencyKey, { status: 201, body: orderView(paid) }, { tx });
        });
      }
      case 'confirming': {
        await observer.step('confirm', () => deps.inventory.confirm(orderId, options));
        return await move(deps, checkout, 'done', {}, async (tx) => {
          await tx.query('update orders set reservation_confirmed = true where id = $1', [orderId]);
        });
      }
      case 'compensating':
        return await compensate(deps, checkout);
      case 'done':
      case 'failed':
        return 'stay';
    }
  } catch (error) {
    return failed(deps, checkout, shopperError(KitError.from(error), checkout), driver);
  }
}

/**
 * A step that failed. A business answer (declined, out of stock, lapsed) is final: it is kept
 * as the shopper's answer, and the checkout is compensated. An unknown one is left to be tried
 * again, except by a request before the order is recorded: it gives the checkout up (503), so
 * the shopper is not kept waiting on a provider that is down, and nothing stays held.
 */
async function failed(deps: SagaDeps, checkout: Checkout, error: KitError, driver: Driver): Promise<StepResult> {
  deps.logger.warn({ order_id: checkout.orderId, step: checkout.step, code: error.code, reason: error.reason }, 'a checkout step failed');
  if (isFinal(error)) {
    const failure = (await cancelledByShopper(deps, checkout)) ?? answerOf(error);
    // Refused by inventory as it reserved (all lines or none): nothing was held or asked for, nothing to undo.
    const to = checkout.step === 'reserving' && error.reason !== 'reservation_lapsed' ? 'failed' : 'compensating';
    return move(deps, checkout, to, { failure }, async (tx) => {
      await deps.idempotency.complete(checkout.userId, checkout.idempotencyKey, failure, { tx });
    });
  }
  // The stock and money of a recorded order are pushed through (later, by the reconciler).
  if (driver === 'reconciler' || !beforeThePivot.has(checkout.step)) return 'stay';
  return move(deps, checkout, 'compensating', { failure: answerOf(givenUp(error)) });
}

/**
 * A recorded order the shopper cancelled while its checkout was still running (the cancel
 * refunded or voided it and released its stock, so the step after fails): the answer kept for
 * the key is the order as it stands, cancelled, not the failure the cancel caused.
 */
async function cancelledByShopper(deps: SagaDeps, checkout: Checkout): Promise<StoredResponse | undefined> {
  if (beforeThePivot.has(checkout.step)) return undefined;
  const order = await findOrder(deps.db, checkout.orderId, { signal: AbortSignal.timeout(deps.compensationBudgetMs) });
  return order?.status === 'cancelled' ? { status: 201, body: orderView(order) } : undefined;
}

/**
 * What a request that gives a checkout up keeps as its failure: a "try again" answer (5xx), so
 * the key is freed and the shopper's retry places the order afresh. A caller that went away
 * (Canceled, 499) is one too: kept as it was, that answer (under 500) would be handed to every
 * retry of the key, as if the retry had cancelled itself.
 */
function givenUp(error: KitError): KitError {
  if (error.code !== Code.Canceled) return error;
  return new KitError(Code.Unavailable, 'the checkout was given up when its caller went away; nothing was charged and the stock was released: try again', { cause: error });
}

/**
 * Gives up a checkout that could not be pushed on before its order was recorded (the provider
 * or inventory unreachable for `CHECKOUT_GIVE_UP_AFTER_MS`): it is compensated, and its key
 * freed, so a retry places the order afresh. A checkout past the pivot is never given up.
 */
export async function giveUp(deps: SagaDeps, checkout: Checkout): Promise<Checkout> {
  if (!beforeThePivot.has(checkout.step)) return checkout;
  const failure = answerOf(new KitError(Code.Unavailable, 'the checkout could not be finished; nothing was charged and the stock was released: try again'));
  const moved = await move(deps, checkout, 'compensating', { failure });
  return moved === 'moved elsewhere' ? checkout : moved;
}

/**
 * Undoes what a failed checkout did: the stock released (first, so a provider that is down
 * keeps none of it from other shoppers), the payment let go (voided; refunded if it was
 * taken), a recorded order cancelled with its event. Each undo is idempotent and tried even when
 * the other failed; until both are made the checkout stays compensating, for the reconciler.
 */
async function compensate(deps: SagaDeps, checkout: Checkout): Promise<StepResult> {
  const budget = () => ({ signal: AbortSignal.timeout(deps.compensationBudgetMs) });
  const { orderId } = checkout;
  const released = deps.observer.step('release', () => deps.inventory.release(orderId, budget())).catch((error: unknown) => {
    // No reservation: the stock was never held.
    if (KitError.from(error).code !== Code.NotFound) throw error;
  });
  // A payment is asked for only once stock is held; before that there is none to let go.
  const letGo = checkout.reserved === null ? undefined : deps.observer.step('void', () => deps.payment.void(orderId, budget())).catch(async (error: unknown) => {
    if (KitError.from(error).reason !== 'payment_captured') throw error;
    return deps.observer.step('refund', () => deps.payment.refund(orderId, budget()));
  });
  const [stock, money] = await Promise.allSettled([released, letGo]);
  for (const outcome of [stock, money]) {
    if (outcome.status === 'rejected') {
      deps.logger.warn({ err: outcome.reason, order_id: orderId }, 'a checkout could not be compensated yet; the reconciler will go on with it');
      return 'stay';
    }
  }
  const payment = money.status === 'fulfilled' ? money.value : undefined;
  return move(deps, checkout, 'failed', {}, async (tx) => {
    const order = await findOrder(tx, orderId, {});
    if (order === undefined || order.status === 'cancelled') return;
    const moneyBack = payment?.status === 'refunded' ? { status: 'refunded' as const, refundedCents: payment.refundedCents } : { status: 'voided' as const };
    await setOrderPayment(tx, orderId, moneyBack, { from: ['pending', 'paid'], to: 'cancelled' }, {});
    await addOrderCancelled(tx, deps.events, order, checkout.failure?.status === 409 ? 'reservation_lost' : 'payment_failed', { traceparent: checkout.traceparent });
  });
}

/**
 * An outcome left unknown (the call timed out or the service could not answer) is settled by
 * asking once more: every payment call is idempotent by order id, so asking again never charges
 * twice, and the provider answers a step it did with what it did.
 */
async function askAgainOnce<T>(call: () => Promise<T>, options: CallOptions): Promise<T> {
  try {
    return await call();
  } catch (error) {
    const kitError = KitError.from(error);
    if (options.signal.aborted || (kitError.code !== Code.DeadlineExceeded && kitError.code !== Code.Unavailable)) throw kitError;
    return call();
  }
}

/** The order as recorded at the pivot: held on the card, not yet taken. */
function recordedOrder(checkout: Checkout, card: { brand: string | null; last4: string | null }): Order {
  const reserved = checkout.reserved ?? [];
  const at = new Date().toISOString();
  const totalCents = lineTotalCents(reserved);
  const currency = reserved[0]?.currency ?? 'EUR';
  return {
    id: checkout.orderId,
    userId: checkout.userId,
    status: 'pending',
    items: reserved.map(({ sku, name, quantity, priceCents }) => ({ sku, name, quantity, priceCents })),
    totalCents,
    currency,
    createdAt: at,
    updatedAt: at,
    cancelledAt: null,
    payment: { status: 'authorized', amountCents: totalCents, currency, ...card, refundedCents: 0, refundedAt: null },
  };
}

/**
 * Writes the checkout's next step (with `alsoDo` in the same transaction), then tells the
 * observer, which may end the process there (the crash fault hook). On a budget of its own: a
 * call that was made is written down even when the request that made it has run out of time.
 * `moved elsewhere` when another driver moved it first.
 */
async function move(deps: SagaDeps, checkout: Checkout, to: CheckoutStep, set: Parameters<typeof moveCheckout>[3], alsoDo?: (tx: Queryable) => Promise<void>): Promise<Checkout | 'moved elsewhere'> {
  const options = { signal: AbortSignal.timeout(deps.compensationBudgetMs) };
  const moved = await deps.db.transaction(async (tx) => {
    const next = await moveCheckout(tx, checkout, to, set, options);
    if (next !== undefined) await alsoDo?.(tx);
    return next;
  }, options);
  if (moved === undefined) return 'moved elsewhere';
  deps.events.committed();
  deps.observer.committed(to);
  return moved;
}
