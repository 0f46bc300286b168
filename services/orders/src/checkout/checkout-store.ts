import type { Queryable, QueryOptions } from '@baton/kit/db';
import type { ReservedLine } from '../upstreams/upstreams.ts';
import type { StoredResponse } from './idempotency.ts';

/**
 * What a checkout with payment does next, written before it is done (docs/checkout.md):
 * reserving → authorizing → capturing → confirming → done, or compensating → failed.
 * The order itself is recorded on the way from authorizing to capturing: the saga's pivot.
 */
export const checkoutSteps = ['reserving', 'authorizing', 'capturing', 'confirming', 'done', 'compensating', 'failed'] as const;
export type CheckoutStep = (typeof checkoutSteps)[number];

/** The steps before the order is recorded: a failure there is compensated, not pushed through. */
export const beforeThePivot: ReadonlySet<CheckoutStep> = new Set(['reserving', 'authorizing']);

export interface Checkout {
  orderId: string;
  userId: string;
  idempotencyKey: string;
  /** The lines in the order the shopper sent them (their errors name them by place). */
  items: Array<{ sku: string; quantity: number }>;
  paymentMethod: string;
  customer: { email: string; name: string };
  traceparent: string | undefined;
  step: CheckoutStep;
  /** The reserved lines, with prices and names, once stock is held. */
  reserved: ReservedLine[] | null;
  /** The answer of a checkout that failed; null while it has not. */
  failure: StoredResponse | null;
  createdAt: Date;
}

type CheckoutRow = {
  order_id: string; user_id: string; idempotency_key: string; items: Checkout['items']; payment_method: string;
  customer: Checkout['customer']; traceparent: string | null; step: CheckoutStep; reserved: ReservedLine[] | null;
  failure: StoredResponse | null; created_at: Date;
};

// Named, never `*`: a statement is prepared once a connection (kit db), and a prepared `*` whose
// table gained a column (a newer version's migration, mid rolling deploy) fails until the
// connection goes; a list of names keeps answering as written.
const checkoutColumns = 'order_id, user_id, idempotency_key, items, payment_method, customer, traceparent, step, reserved, failure, created_at';

const toCheckout = (row: CheckoutRow): Checkout => ({
  orderId: row.order_id, userId: row.user_id, idempotencyKey: row.idempotency_key, items: row.items, paymentMethod: row.payment_method,
  customer: row.customer, traceparent: row.traceparent ?? undefined, step: row.step, reserved: row.reserved, failure: row.failure, createdAt: row.created_at,
});

/** Writes a new checkout at its first step; one that exists already (a retry taking over) is answered as it is. */
export async function beginCheckout(db: Queryable, checkout: Omit<Checkout, 'step' | 'reserved' | 'failure' | 'createdAt'>, options: QueryOptions): Promise<{ checkout: Checkout; created: boolean }> {
  const { rows: [created] } = await db.query<CheckoutRow>(
    `insert into checkouts (order_id, user_id, idempotency_key, items, payment_method, customer, traceparent, step)
     values ($1, $2, $3, $4::jsonb, $5, $6::jsonb, $7, 'reserving') on conflict (order_id) do nothing returning ${checkoutColumns}`,
    [checkout.orderId, checkout.userId, checkout.idempotencyKey, JSON.stringify(checkout.items), checkout.paymentMethod, JSON.stringify(checkout.customer), checkout.traceparent ?? null],
    options);
  if (created !== undefined) return { checkout: toCheckout(created), created: true };
  const existing = await findCheckout(db, checkout.orderId, options);
  if (existing === undefined) throw new Error(`checkout ${checkout.orderId} vanished as it was begun`);
  return { checkout: existing, created: false };
}

export async function findCheckout(db: Queryable, orderId: string, options: QueryOptions): Promise<Checkout | undefined> {
  const { rows: [row] } = await db.query<CheckoutRow>(`select ${checkoutColumns} from checkouts where order_id = $1`, [orderId], options);
  return row === undefined ? undefined : toCheckout(row);
}

/**
 * Moves a checkout from the step it was read at to the next, only if it is still there: of two
 * drivers (a request and the reconciler, or a retry taking over), one moves it and the other
 * reads where it went. Undefined when another moved it first.
 */
export async function moveCheckout(tx: Queryable, checkout: Checkout, to: CheckoutStep, set: { reserved?: ReservedLine[]; failure?: StoredResponse }, options: QueryOptions): Promise<Checkout | undefined> {
  const { rows: [row] } = await tx.query<CheckoutRow>(
    `update checkouts set step = $3, updated_at = now(),
        reserved = coalesce($4::jsonb, reserved), failure = coalesce($5::jsonb, failure)
      where order_id = $1 and step = $2 returning ${checkoutColumns}`,
    [checkout.orderId, checkout.step, to, set.reserved === undefined ? null : JSON.stringify(set.reserved), set.failure === undefined ? null : JSON.stringify(set.failure)],
    options);
  return row === undefined ? undefined : toCheckout(row);
}

/**
 * Takes up to `limit` unfinished checkouts nobody has moved for `staleAfterMs` (their request
 * died, or gave them up), marking them taken so another reconciler passes them by for as long.
 */
export async function takeStaleCheckouts(db: Queryable, { staleAfterMs, limit }: { staleAfterMs: number; limit: number }, options: QueryOptions): Promise<Checkout[]> {
  const { rows } = await db.query<CheckoutRow>(
    `update checkouts set updated_at = now() where order_id in (
       select order_id from checkouts where step not in ('done', 'failed') and updated_at < now() - make_interval(secs => $1)
        order by updated_at limit $2 for update skip locked)
     returning ${checkoutColumns}`,
    [staleAfterMs / 1_000, limit], options);
  return rows.map(toCheckout);
}
