import type { Database, QueryOptions } from '@baton/kit/db';
import { Code, KitError } from '@baton/kit/errors';
import { findReservation, type Reservation } from './reservation.ts';

/**
 * A held reservation made final. It is found by its order alone: `is not distinct from` (status
 * is never null, so it means `=`) keeps the sweeper's partial index (`status = 'held'`, by expiry)
 * out of reach. With `status = 'held'`, the generic plan PostgreSQL keeps for this prepared
 * statement, made on a new shop's empty tables, went through that index and read every held
 * reservation on each confirm, as many as there are checkouts in flight
 * (`test/confirm-plan.test.ts`; orders' cancel had the same, bench/README.md).
 */
export const confirmStatement = `update reservations set status = 'confirmed', updated_at = now()
  where order_id = $1 and status is not distinct from 'held' and expires_at > now()`;

/**
 * Makes a held reservation final: it no longer expires. Idempotent: confirming a confirmed
 * reservation answers with it. A reservation whose stock has gone back (released, or expired,
 * which a held one is from its `expiresAt` on even before the sweeper reaches it) cannot be
 * confirmed: 409, since the stock may already be someone else's.
 */
export async function confirm(db: Database, orderId: string, { signal }: QueryOptions): Promise<Reservation> {
  return db.transaction(async (tx) => {
    // Conditional, so it cannot race the sweeper: whichever locks the row first wins, and the
    // other sees the status it left.
    await tx.query(confirmStatement, [orderId], { signal });
    const reservation = await findReservation(tx, orderId, { signal });
    if (reservation === undefined) throw new KitError(Code.NotFound, 'no reservation for this order', { details: { orderId } });
    if (reservation.status === 'confirmed') return reservation;
    throw new KitError(Code.Aborted, `the reservation was ${reservation.status} and can no longer be confirmed`, {
      reason: reservation.status === 'released' ? 'reservation_released' : 'reservation_expired',
      details: { orderId, status: reservation.status },
    });
  }, { signal });
}
