import { z } from 'zod';
import { defineEvent } from './define.ts';

// Owned by the payment service: only it publishes these, in its domain (named as the service,
// as orders' and users' are: a feed reader's token is for the service whose domain it reads).

const card = z.object({ brand: z.string(), last4: z.string().regex(/^[0-9]{4}$/) }).nullable();
// What every payment event says: whose payment, and how much.
const payment = {
  orderId: z.uuid(),
  paymentId: z.uuid(),
  amountCents: z.number().int().min(0),
  currency: z.string().length(3),
};

/** An order's payment was taken from the card (captured): the receipt's news. */
export const paymentCaptured = defineEvent({
  type: 'payment.captured',
  version: 1,
  domain: 'payment',
  data: z.object({
    ...payment,
    card,
    capturedAt: z.string(),
  }),
});

/** What was taken for an order was given back, all of it. */
export const paymentRefunded = defineEvent({
  type: 'payment.refunded',
  version: 1,
  domain: 'payment',
  data: z.object({
    ...payment,
    refundedAt: z.string(),
  }),
});

/** An order's card was declined: nothing was held or taken. */
export const paymentFailed = defineEvent({
  type: 'payment.failed',
  version: 1,
  domain: 'payment',
  data: z.object({
    ...payment,
    declineCode: z.string(),
    failedAt: z.string(),
  }),
});

export type PaymentCaptured = z.output<typeof paymentCaptured.data>;
export type PaymentRefunded = z.output<typeof paymentRefunded.data>;
export type PaymentFailed = z.output<typeof paymentFailed.data>;
