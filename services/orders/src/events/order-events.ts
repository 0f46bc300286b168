import { orderCancelled, orderCreated, type OrderCancelled } from '@baton/contracts/events';
import type { Queryable, QueryOptions } from '@baton/kit/db';
import type { Outbox } from '@baton/kit/messaging';
import type { Order } from '../orders/order.ts';

/**
 * The orders service's events, written to its outbox inside the transaction that changes the
 * order, and the relay's wake-up to call once that transaction has committed.
 */
export interface OrderEvents {
  outbox: Outbox;
  /** Publish soon rather than at the relay's next poll. */
  committed(): void;
}

export async function addOrderCreated(tx: Queryable, events: OrderEvents, order: Order, customer: { email: string; name: string }, options: QueryOptions & { traceparent?: string | undefined }): Promise<void> {
  await events.outbox.add(tx, orderCreated, {
    aggregateId: order.id,
    traceparent: options.traceparent,
    data: {
      orderId: order.id,
      userId: order.userId,
      customer,
      items: order.items,
      totalCents: order.totalCents,
      currency: order.currency,
      createdAt: order.createdAt,
    },
  }, options);
}

export async function addOrderCancelled(tx: Queryable, events: OrderEvents, order: Pick<Order, 'id' | 'userId'>, reason: OrderCancelled['reason'], options: QueryOptions & { traceparent?: string | undefined }): Promise<void> {
  await events.outbox.add(tx, orderCancelled, {
    aggregateId: order.id,
    traceparent: options.traceparent,
    data: { orderId: order.id, userId: order.userId, reason, cancelledAt: new Date().toISOString() },
  }, options);
}
