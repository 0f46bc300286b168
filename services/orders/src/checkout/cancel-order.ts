import type { Database } from '@baton/kit/db';
import { Code, KitError } from '@baton/kit/errors';
import { addOrderCancelled, type OrderEvents } from '../events/order-events.ts';
import { findOrder, findOrderMarkingCancel, setOrderPayment, setOrderStatus } from '../orders/repository.ts';
import type { Order, OrderPayment } from '../orders/order.ts';
import type { CallOptions } from '../upstreams/call-options.ts';
import type { InventoryApi, PaymentApi } from '../upstreams/upstreams.ts';

/**
 * Finds an order for its owner. Someone else's order is "not found", never "forbidden":
 * the answer must not tell a stranger that the id exists.
 */
export async function findOwnOrder(db: Database, userId: string, orderId: string, options: CallOptions): Promise<Order> {
  return ownOrder(await findOrder(db, orderId, options), userId);
}

function ownOrder(order: Order | undefined, userId: string): Order {
  if (order === undefined || order.userId !== userId) throw new KitError(Code.NotFound, 'no such order');
  return order;
}

/**
 * Lets go of a paid order's money: what is only held is voided; what was taken is refunded
 * (the checkout may have taken it since the order was read). Both are idempotent.
 */
async function giveMoneyBack(payment: PaymentApi, orderId: string, options: CallOptions): Promise<Pick<OrderPayment, 'status'> & Partial<Pick<OrderPayment, 'refundedCents'>>> {
  try {
    await payment.void(orderId, options);
    return { status: 'voided' };
  } catch (error) {
    if (KitError.from(error).reason !== 'payment_captured') throw error;
    const refunded = await payment.refund(orderId, options);
    return { status: 'refunded', refundedCents: refunded.refundedCents };
  }
}

/**
 * Cancels an order and gives its stock back, and its money: a paid order is refunded, one whose
 * payment is only held has it voided. Idempotent: cancelling a cancelled order answers with it
 * unchanged. The request is written down first (`cancel_requested_at`); then the money goes
 * back, then the stock. If either service cannot be reached the caller gets 503 and the order
 * keeps its status for now, but the cancel is not lost: a retry finishes it, and so does the
 * cancel reconciler (`cancel-reconciler.ts`) if nobody retries. The `order.cancelled` event is
 * written in the transaction that cancels.
 */
export async function cancelOrder(deps: { db: Database; inventory: InventoryApi; events: OrderEvents; saga?: { payment: PaymentApi } | undefined }, userId: string, orderId: string, options: CallOptions & { traceparent?: string | undefined }): Promise<Order> {
  // Read and, when it is the caller's and can be cancelled here, written down as asked to cancel.
  const order = ownOrder(await findOrderMarkingCancel(deps.db, orderId, { userId, canGiveMoneyBack: deps.saga !== undefined }, options), userId);
  if (order.status === 'cancelled') return order;
  if (order.payment !== null && deps.saga === undefined) {
    throw new KitError(Code.Unavailable, 'a paid order cannot be cancelled while this shop runs without its payment service');
  }
  const moneyBack = order.payment === null || deps.saga === undefined ? undefined : await giveMoneyBack(deps.saga.payment, orderId, options);
  await deps.inventory.release(orderId, options);
  // The status change and its event commit together; of two cancels racing, only the one whose
  // update changed the row writes the event.
  const cancelled = await deps.db.transaction(async (tx) => {
    const changed = await setOrderStatus(tx, orderId, ['pending', 'confirmed', 'paid'], 'cancelled', options);
    if (changed !== undefined && moneyBack !== undefined) await setOrderPayment(tx, orderId, moneyBack, undefined, options);
    if (changed !== undefined) await addOrderCancelled(tx, deps.events, order, 'customer_request', options);
    return changed;
  }, options);
  deps.events.committed();
  // Of two cancels at once, the one that did not change the row reads what the other wrote.
  return cancelled === undefined || moneyBack !== undefined ? findOwnOrder(deps.db, userId, orderId, options) : { ...order, status: 'cancelled', ...cancelled };
}
