import { orderLine } from '@baton/contracts/http';
import { z } from 'zod';

/** The longest hold a caller may ask for: a reservation is for a checkout, not a wish list. */
export const maxTtlSeconds = 86_400;

/**
 * POST /v1/reservations. A line is the public API's order line ({ sku, quantity 1..1000 },
 * strict): the orders service passes its validated lines straight through, so the two must
 * not drift apart.
 */
export const reserveBody = z.strictObject({
  orderId: z.uuid(),
  items: z.array(orderLine).min(1).max(50)
    .refine((items) => new Set(items.map((item) => item.sku)).size === items.length, 'each sku may appear once'),
  ttlSeconds: z.number().int().min(1).max(maxTtlSeconds).optional(),
});

export const orderIdParams = z.strictObject({ orderId: z.uuid() });

export const reservationResponse = z.object({
  orderId: z.uuid(),
  status: z.enum(['held', 'confirmed', 'released', 'expired']),
  items: z.array(z.object({
    sku: z.string(),
    quantity: z.number().int(),
    priceCents: z.number().int(),
    currency: z.string(),
  })),
  expiresAt: z.iso.datetime(),
});
