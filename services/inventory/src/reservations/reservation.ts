import type { Queryable, QueryOptions } from '@baton/kit/db';

export type ReservationStatus = 'held' | 'confirmed' | 'released' | 'expired';

export interface ReservedLine {
  sku: string;
  quantity: number;
  /** The unit price when the stock was reserved: what the order is charged. */
  priceCents: number;
  currency: string;
  /** The product's name, for the order's lines and its emails. */
  name: string;
}

export interface Reservation {
  orderId: string;
  status: ReservationStatus;
  /** In SKU order. */
  items: ReservedLine[];
  expiresAt: Date;
}

/** A reservation as the API shows it. */
export interface ReservationView {
  orderId: string;
  status: ReservationStatus;
  items: ReservedLine[];
  expiresAt: string;
}

export function reservationView(reservation: Reservation): ReservationView {
  return { ...reservation, expiresAt: reservation.expiresAt.toISOString() };
}

type ReservationRow = {
  order_id: string;
  status: ReservationStatus;
  expires_at: Date;
  sku: string | null;
  quantity: number | null;
  price_cents: number | null;
  currency: string | null;
  name: string | null;
};

/**
 * A reservation with its lines, or undefined. A held reservation past its expiry is reported
 * as expired even before the sweeper has given its stock back: from that moment it can no
 * longer be confirmed, and the caller should see why.
 */
export async function findReservation(db: Queryable, orderId: string, { signal }: QueryOptions): Promise<Reservation | undefined> {
  const { rows } = await db.query<ReservationRow>(
    `select r.order_id,
            case when r.status = 'held' and r.expires_at <= now() then 'expired' else r.status end as status,
            r.expires_at, i.sku, i.quantity, i.price_cents, i.currency, p.name
       from reservations r
       left join reservation_items i on i.order_id = r.order_id
       left join products p on p.sku = i.sku
      where r.order_id = $1`,
    [orderId], { signal });
  const first = rows[0];
  if (first === undefined) return undefined;
  const items: ReservedLine[] = [];
  for (const row of rows) {
    if (row.sku === null || row.quantity === null || row.price_cents === null || row.currency === null) continue;
    // A product is never deleted while reservations name it; its SKU stands in if one ever is.
    items.push({ sku: row.sku, quantity: row.quantity, priceCents: row.price_cents, currency: row.currency, name: row.name ?? row.sku });
  }
  return { orderId: first.order_id, status: first.status, items: items.sort(bySku), expiresAt: first.expires_at };
}

/**
 * The one order in which every transaction that changes stock takes its product rows. Two
 * transactions that lock rows in the same order cannot deadlock on them. Code-unit order,
 * not the database's collation, so it is the same whatever the server's locale.
 */
export function bySku(a: { sku: string }, b: { sku: string }): number {
  return a.sku < b.sku ? -1 : a.sku > b.sku ? 1 : 0;
}
