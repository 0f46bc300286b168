import type { Database, QueryOptions } from '@baton/kit/db';
import { Code, KitError } from '@baton/kit/errors';
import { findReservation, type Reservation } from './reservation.ts';
import { returnStock } from './return-stock.ts';

/**
 * Gives a reservation's stock back, held or confirmed (an order cancelled after checkout).
 * Exactly once: only the statement that moves the row out of held or confirmed returns stock,
 * and a concurrent second release waits for the first and then matches nothing. Releasing a
 * released or expired reservation answers with it as it is.
 */
export async function release(db: Database, orderId: string, { signal }: QueryOptions): Promise<Reservation> {
  return db.transaction(async (tx) => {
    const { rows } = await tx.query<{ order_id: string }>(
      `update reservations set status = 'released', updated_at = now()
        where order_id = $1 and status in ('held', 'confirmed')
        returning order_id`,
      [orderId], { signal });
    if (rows.length > 0) await returnStock(tx, [orderId], { signal });
    const reservation = await findReservation(tx, orderId, { signal });
    if (reservation === undefined) throw new KitError(Code.NotFound, 'no reservation for this order', { details: { orderId } });
    return reservation;
  }, { signal });
}
