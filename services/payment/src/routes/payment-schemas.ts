import { z } from 'zod';

// The payment service's input rules, one set for both edges: the HTTP routes validate with
// them, and the gRPC methods (rpc/payment-rpc.ts) hold their messages to the same.

export const orderParams = z.strictObject({ orderId: z.uuid() });

export const authorizeBody = z.strictObject({
  /** From the order, never from the shopper. */
  amountCents: z.number().int().min(1).max(100_000_000),
  currency: z.string().regex(/^[A-Z]{3}$/, 'expected an ISO 4217 code such as EUR'),
  /** The provider's name for how to pay (`pm_card_visa`): never a card number. */
  method: z.string().regex(/^pm_[A-Za-z0-9_]{1,64}$/, 'expected a payment method such as pm_card_visa'),
});
