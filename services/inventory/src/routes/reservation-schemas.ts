import { orderLine } from '@baton/contracts/http';
import { z } from 'zod';

/**
 * POST /v1/reservations (and gRPC CreateReservation). A line is the public API's order line
 * ({ sku, quantity 1..1000 }, strict): the orders service passes its validated lines straight
 * through, so the two must not drift apart. `maxTtlSeconds` (RESERVATION_MAX_TTL_SECONDS) is the
 * longest hold a caller may ask for: a reservation is for a checkout, not a wish list, and a
 * long one lets whoever may reserve take stock off the shelf for that long.
 */
export function reserveBodyOf({ maxTtlSeconds }: { maxTtlSeconds: number }) {
  return z.strictObject({
    orderId: z.uuid(),
    items: z.array(orderLine).min(1).max(50)
      .refine((items) => new Set(items.map((item) => item.sku)).size === items.length, 'each sku may appear once'),
    ttlSeconds: z.number().int().min(1).max(maxTtlSeconds, `expected at most ${maxTtlSeconds} seconds (RESERVATION_MAX_TTL_SECONDS)`).optional(),
  });
}

export const orderIdParams = z.strictObject({ orderId: z.uuid() });

export const reservationResponse = z.object({
  orderId: z.uuid(),
  status: z.enum(['held', 'confirmed', 'released', 'expired']),
  items: z.array(z.object({
    sku: z.string(),
    quantity: z.number().int(),
    priceCents: z.number().int(),
    currency: z.string(),
    name: z.string(),
  })),
  expiresAt: z.iso.datetime(),
});
