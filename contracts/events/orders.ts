import { z } from 'zod';
import { defineEvent } from './define.ts';

// Owned by the orders service: only it publishes these.

// `name` came later than version 1: an event written before it has none, and its SKU stands in.
const line = z.object({ sku: z.string(), name: z.string().optional(), quantity: z.number().int().min(1), priceCents: z.number().int().min(0) });

/** An order was placed and stored (checkout answered 201). Carries the customer's contact as it was at checkout. */
export const orderCreated = defineEvent({
  type: 'order.created',
  version: 1,
  domain: 'orders',
  data: z.object({
    orderId: z.uuid(),
    userId: z.uuid(),
    customer: z.object({ email: z.string(), name: z.string() }),
    items: z.array(line).min(1),
    totalCents: z.number().int().min(0),
    currency: z.string().length(3),
    createdAt: z.string(),
  }),
});

/** An order was cancelled: by its owner, or by orders itself when its reservation was lost or its payment could not be taken. */
export const orderCancelled = defineEvent({
  type: 'order.cancelled',
  version: 1,
  domain: 'orders',
  data: z.object({
    orderId: z.uuid(),
    userId: z.uuid(),
    reason: z.enum(['customer_request', 'reservation_lost', 'payment_failed']),
    cancelledAt: z.string(),
  }),
});

export type OrderCreated = z.output<typeof orderCreated.data>;
export type OrderCancelled = z.output<typeof orderCancelled.data>;
