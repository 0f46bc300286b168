import type { Database, Queryable, QueryOptions } from '@baton/kit/db';
import { Code, KitError } from '@baton/kit/errors';
import { bySku, findReservation, type Reservation, type ReservedLine } from './reservation.ts';

export interface ReserveRequest {
  orderId: string;
  /** At most one line per SKU (the route's schema sees to it). */
  items: ReadonlyArray<{ sku: string; quantity: number }>;
  ttlSeconds: number;
}

export interface ReserveOutcome {
  reservation: Reservation;
  /** False when the order already had this reservation: nothing was taken this time. */
  created: boolean;
}

type Line = { sku: string; quantity: number };

/**
 * Takes the stock of every line for an order, or none of it, and holds it for `ttlSeconds`.
 *
 * Why it cannot oversell: each line is one conditional `update … where stock >= $q`, which
 * PostgreSQL re-checks on the newest row version after waiting for any other writer, so two
 * reservations can never both take the last unit; the check constraint stands behind it.
 * Why it cannot deadlock: lines are applied in the one SKU order every stock change uses.
 * Why it deducts once per order: the reservation row is inserted first with
 * `on conflict do nothing`; a second request for the same order waits on that primary key
 * until the first commits, then finds its row and answers with it.
 *
 * @example
 * const { reservation, created } = await reserve(db, { orderId, items, ttlSeconds: 900 }, { signal });
 */
export async function reserve(db: Database, request: ReserveRequest, { signal }: QueryOptions): Promise<ReserveOutcome> {
  const lines = [...request.items].sort(bySku);
  return db.transaction(async (tx) => {
    const claimed = await tx.query<{ expires_at: Date }>(
      `insert into reservations (order_id, status, expires_at)
       values ($1, 'held', now() + make_interval(secs => $2))
       on conflict (order_id) do nothing
       returning expires_at`,
      [request.orderId, request.ttlSeconds], { signal });
    const expiresAt = claimed.rows[0]?.expires_at;
    if (expiresAt === undefined) {
      return { reservation: await existingReservation(tx, request.orderId, lines, { signal }), created: false };
    }

    const reserved: ReservedLine[] = [];
    const short: Line[] = [];
    // Every line is tried even after one fails, so the answer names every SKU that lacks
    // stock; the transaction rolls back whatever the others took.
    for (const line of lines) {
      const { rows } = await tx.query<{ price_cents: number; currency: string; name: string }>(
        `update products set stock = stock - $2, updated_at = now()
          where sku = $1 and stock >= $2
          returning price_cents, currency, name`,
        [line.sku, line.quantity], { signal });
      const product = rows[0];
      if (product === undefined) short.push(line);
      else reserved.push({ ...line, priceCents: product.price_cents, currency: product.currency, name: product.name });
    }
    if (short.length > 0) throw await shortageError(tx, short, { signal });

    for (const line of reserved) {
      await tx.query(
        `insert into reservation_items (order_id, sku, quantity, price_cents, currency) values ($1, $2, $3, $4, $5)`,
        [request.orderId, line.sku, line.quantity, line.priceCents, line.currency], { signal });
    }
    return { reservation: { orderId: request.orderId, status: 'held', items: reserved, expiresAt }, created: true };
  }, { signal });
}

/** The reservation an earlier request made for this order, if it asked for the same lines. */
async function existingReservation(tx: Queryable, orderId: string, lines: readonly Line[], options: QueryOptions): Promise<Reservation> {
  const existing = await findReservation(tx, orderId, options);
  if (existing === undefined) {
    // Reservations are never deleted, so the row the insert collided with is still there.
    throw new KitError(Code.Internal, 'internal error', { cause: new Error(`reservation ${orderId} conflicted on insert but cannot be read`) });
  }
  const same = existing.items.length === lines.length
    && existing.items.every((item, i) => item.sku === lines[i]?.sku && item.quantity === lines[i]?.quantity);
  if (!same) {
    throw new KitError(Code.FailedPrecondition, 'this order already has a reservation with other items', {
      reason: 'reservation_mismatch',
      details: { orderId },
    });
  }
  return existing;
}

/**
 * Why some lines could not be reserved. An unknown SKU is a 404: the caller named something
 * that does not exist, and no wait or retry will change that (the same answer as
 * GET /v1/products/:sku). Otherwise it is a 409 naming every SKU that lacked stock.
 */
async function shortageError(tx: Queryable, short: readonly Line[], { signal }: QueryOptions): Promise<KitError> {
  const { rows } = await tx.query<{ sku: string; stock: number }>(
    'select sku, stock from products where sku = any($1::text[])', [short.map((line) => line.sku)], { signal });
  const stockBySku = new Map(rows.map((row) => [row.sku, row.stock]));
  const unknown = short.filter((line) => !stockBySku.has(line.sku)).map((line) => line.sku);
  if (unknown.length > 0) {
    return new KitError(Code.NotFound, unknown.length === 1 ? 'no such product' : 'no such products', {
      reason: 'unknown_sku',
      details: { unknown },
    });
  }
  return new KitError(Code.Aborted, 'not enough stock for every line; nothing was reserved', {
    reason: 'out_of_stock',
    details: { unavailable: short.map((line) => ({ sku: line.sku, requested: line.quantity, available: stockBySku.get(line.sku) ?? 0 })) },
  });
}
