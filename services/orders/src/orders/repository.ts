import type { Queryable, QueryOptions } from '@baton/kit/db';
import type { Order, OrderLine, OrderPayment, OrderStatus } from './order.ts';

type ItemRow = { sku: string; name: string; quantity: number; price_cents: number };

// A type, not an interface, so it fits the database's row type.
type OrderRow = {
  id: string;
  user_id: string;
  status: OrderStatus;
  total_cents: string | number;
  currency: string;
  created_at: Date | string;
  updated_at: Date | string;
  cancelled_at: Date | string | null;
  items: ItemRow[] | string | null;
  payment_status: OrderPayment['status'] | null;
  card_brand: string | null;
  card_last4: string | null;
  refunded_cents: string | number | null;
  refunded_at: Date | string | null;
};

const selectOrders = `
  select o.id, o.user_id, o.status, o.total_cents, o.currency, o.created_at, o.updated_at, o.cancelled_at,
         o.payment_status, o.card_brand, o.card_last4, o.refunded_cents, o.refunded_at,
         coalesce((select json_agg(json_build_object('sku', i.sku, 'name', coalesce(i.name, i.sku), 'quantity', i.quantity, 'price_cents', i.price_cents) order by i.sku)
                   from order_items i where i.order_id = o.id), '[]'::json) as items
  from orders o`;

function toOrder(row: OrderRow): Order {
  const items: ItemRow[] = typeof row.items === 'string' ? JSON.parse(row.items) as ItemRow[] : (row.items ?? []);
  return {
    id: row.id,
    userId: row.user_id,
    status: row.status,
    items: items.map((i) => ({ sku: i.sku, name: i.name, quantity: i.quantity, priceCents: i.price_cents })),
    totalCents: Number(row.total_cents),
    currency: row.currency,
    createdAt: new Date(row.created_at).toISOString(),
    updatedAt: new Date(row.updated_at).toISOString(),
    cancelledAt: row.cancelled_at === null ? null : new Date(row.cancelled_at).toISOString(),
    payment: row.payment_status === null ? null : {
      status: row.payment_status,
      amountCents: Number(row.total_cents),
      currency: row.currency,
      brand: row.card_brand,
      last4: row.card_last4,
      refundedCents: Number(row.refunded_cents ?? 0),
      refundedAt: row.refunded_at === null ? null : new Date(row.refunded_at).toISOString(),
    },
  };
}

export async function insertOrder(tx: Queryable, order: Order, options: QueryOptions): Promise<void> {
  await tx.query(
    `insert into orders (id, user_id, status, total_cents, currency, created_at, updated_at, cancelled_at, payment_status, card_brand, card_last4)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
    [order.id, order.userId, order.status, order.totalCents, order.currency, order.createdAt, order.updatedAt, order.cancelledAt,
      order.payment?.status ?? null, order.payment?.brand ?? null, order.payment?.last4 ?? null],
    options,
  );
  for (const line of order.items) {
    await tx.query('insert into order_items (order_id, sku, name, quantity, price_cents) values ($1, $2, $3, $4, $5)',
      [order.id, line.sku, line.name, line.quantity, line.priceCents], options);
  }
}

export async function findOrder(db: Queryable, id: string, options: QueryOptions): Promise<Order | undefined> {
  const { rows } = await db.query<OrderRow>(`${selectOrders} where o.id = $1`, [id], options);
  return rows[0] ? toOrder(rows[0]) : undefined;
}

/**
 * The order as `findOrder` reads it, with a cancel written down on it (`cancel_requested_at`) in
 * the same statement when it is `userId`'s, not cancelled yet, and one this shop can cancel
 * (`canGiveMoneyBack`, or no payment on it): one round trip on every cancel, where reading the
 * order and then marking it were two (issue 18). The read is the statement's snapshot, from
 * before the mark, which the order's view does not show.
 *
 * The order is found by its id alone; its owner is checked with `is not distinct from`, which no
 * index can serve (user_id is never null, so it means `=`). With `user_id = $2`, the generic plan
 * PostgreSQL keeps for a prepared statement, made while the tables were still empty (every
 * statement of the kit's pool is prepared, `db/named-statements.ts`), found the row through
 * `orders_by_user` and read every order of the user, every version of it, on every cancel, until
 * an analyze of the table replanned it: ~1,260 buffers a cancel in checkout-vs-bare's first
 * minute, against 15 by the primary key (`cancel-plan.test.ts`, bench/README.md).
 */
export const findOrderMarkingCancelStatement = `with marked as (
       update orders set cancel_requested_at = coalesce(cancel_requested_at, now())
        where id = $1 and user_id is not distinct from $2 and status <> 'cancelled' and (payment_status is null or $3::boolean))
     ${selectOrders} where o.id = $1`;

export async function findOrderMarkingCancel(db: Queryable, id: string, { userId, canGiveMoneyBack }: { userId: string; canGiveMoneyBack: boolean }, options: QueryOptions): Promise<Order | undefined> {
  const { rows } = await db.query<OrderRow>(findOrderMarkingCancelStatement, [id, userId, canGiveMoneyBack], options);
  return rows[0] ? toOrder(rows[0]) : undefined;
}

/** A user's orders, newest first, by keyset on (created_at, id) so pages stay stable under inserts. */
export async function listOrders(db: Queryable, userId: string, page: { limit: number; after?: { createdAt: string; id: string } | undefined }, options: QueryOptions): Promise<Order[]> {
  const params: unknown[] = [userId, page.limit];
  let where = 'where o.user_id = $1';
  if (page.after) {
    params.push(page.after.createdAt, page.after.id);
    where += ' and (o.created_at, o.id) < ($3::timestamptz, $4::uuid)';
  }
  const { rows } = await db.query<OrderRow>(`${selectOrders} ${where} order by o.created_at desc, o.id desc limit $2`, params, options);
  return rows.map(toOrder);
}

/**
 * Moves an order from one of `from` to `to`, dating the change (and the cancellation); the order
 * as it now is, or undefined when it was in no state of `from` (another change came first).
 */
export async function setOrderStatus(db: Queryable, id: string, from: OrderStatus[], to: OrderStatus, options: QueryOptions): Promise<Pick<Order, 'updatedAt' | 'cancelledAt'> | undefined> {
  const { rows: [row] } = await db.query<{ updated_at: Date; cancelled_at: Date | null }>(
    `update orders set status = $3, updated_at = now(), cancelled_at = case when $3 = 'cancelled' then now() else cancelled_at end
      where id = $1 and status = any($2::text[]) returning updated_at, cancelled_at`,
    [id, from, to], options);
  return row === undefined ? undefined : { updatedAt: row.updated_at.toISOString(), cancelledAt: row.cancelled_at?.toISOString() ?? null };
}

export function lineTotalCents(lines: OrderLine[]): number {
  return lines.reduce((sum, line) => sum + line.quantity * line.priceCents, 0);
}

/**
 * Records what became of an order's payment (and the order's status with it, when `to` is
 * given and the order is in one of `from`); the order as it now is, or undefined when its status
 * was none of `from`.
 */
export async function setOrderPayment(db: Queryable, id: string, payment: Pick<OrderPayment, 'status'> & Partial<Pick<OrderPayment, 'refundedCents'>>, move: { from: OrderStatus[]; to: OrderStatus } | undefined, options: QueryOptions): Promise<Order | undefined> {
  const { rowCount } = await db.query(
    `update orders set payment_status = $2,
        refunded_cents = coalesce($3, refunded_cents), refunded_at = case when $3::bigint is null then refunded_at else now() end,
        status = coalesce($4, status), updated_at = now(),
        cancelled_at = case when $4 = 'cancelled' then now() else cancelled_at end
      where id = $1 and ($5::text[] is null or status = any($5::text[]))`,
    [id, payment.status, payment.refundedCents ?? null, move?.to ?? null, move?.from ?? null], options);
  return rowCount === 0 ? undefined : findOrder(db, id, options);
}
