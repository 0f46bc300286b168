import type { Database } from '@baton/kit/db';
import { Code, KitError } from '@baton/kit/errors';
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
 * left as it was and the caller gets 503, so a retry finishes the job.
 */
export async function cancelOrder(deps: { db: Database; inventory: InventoryApi }, userId: string, orderId: string, options: CallOptions): Promise<Order> {
  const order = await findOwnOrder(deps.db, userId, orderId, options);
  if (order.status === 'cancelled') return order;
  await deps.inventory.release(orderId, options);
  await setOrderStatus(deps.db, orderId, ['pending', 'confirmed'], 'cancelled', options);
  return { ...order, status: 'cancelled' };
}
