import type { Database } from '@baton/kit/db';
import { Code, KitError } from '@baton/kit/errors';
import { addOrderCancelled, type OrderEvents } from '../events/order-events.ts';
import { findOrder, setOrderStatus } from '../orders/repository.ts';
import type { Order } from '../orders/order.ts';
import type { CallOptions } from '../upstreams/call-options.ts';
import type { InventoryApi } from '../upstreams/upstreams.ts';

/**
 * Finds an order for its owner. Someone else's order is "not found", never "forbidden":
 * the answer must not tell a stranger that the id exists.
 */
export async function findOwnOrder(db: Database, userId: string, orderId: string, options: CallOptions): Promise<Order> {
  const order = await findOrder(db, orderId, options);
  if (order === undefined || order.userId !== userId) throw new KitError(Code.NotFound, 'no such order');
  return order;
}

/**
 * Cancels an order and gives its stock back. Idempotent: cancelling a cancelled order answers
 * with it unchanged. The stock is released first; if inventory cannot be reached the order is
 * left as it was and the caller gets 503, so a retry finishes the job. The `order.cancelled` event is
 * written in the transaction that cancels.
 */
export async function cancelOrder(deps: { db: Database; inventory: InventoryApi; events: OrderEvents }, userId: string, orderId: string, options: CallOptions & { traceparent?: string | undefined }): Promise<Order> {
  const order = await findOwnOrder(deps.db, userId, orderId, options);
  if (order.status === 'cancelled') return order;
  await deps.inventory.release(orderId, options);
  // The status change and its event commit together; of two cancels racing, only the one whose
  // update changed the row writes the event.
  const cancelled = await deps.db.transaction(async (tx) => {
    const changed = await setOrderStatus(tx, orderId, ['pending', 'confirmed'], 'cancelled', options);
    if (changed !== undefined) await addOrderCancelled(tx, deps.events, order, 'customer_request', options);
    return changed;
  }, options);
  deps.events.committed();
  // Of two cancels at once, the one that did not change the row reads what the other wrote.
  return cancelled === undefined ? findOwnOrder(deps.db, userId, orderId, options) : { ...order, status: 'cancelled', ...cancelled };
}
