import { randomUUID } from 'node:crypto';
import { paymentCaptured, paymentFailed, paymentRefunded } from '@baton/contracts/events';
import type { Database, Queryable } from '@baton/kit/db';
import { Code, KitError } from '@baton/kit/errors';
import type { Outbox } from '@baton/kit/messaging';
import { z } from 'zod';
import type { Authorization, PaymentProvider, ProviderCallOptions, ProviderEvent } from '../provider/provider.ts';

export type PaymentStatus = 'authorizing' | 'authorized' | 'declined' | 'captured' | 'voided' | 'refunded';

interface PaymentRow {
  id: string;
  order_id: string;
  amount_cents: number;
  currency: string;
  method: string | null;
  status: PaymentStatus;
  provider_payment_id: string | null;
  card_brand: string | null;
  card_last4: string | null;
  decline_code: string | null;
  refunded_cents: number;
  created_at: Date;
  updated_at: Date;
}

// Named, never `*`: a statement is prepared once a connection (kit db), and a prepared `*` whose
// table gained a column (a newer version's migration, mid rolling deploy) fails until the
// connection goes; a list of names keeps answering as written.
const paymentColumns = 'id, order_id, amount_cents, currency, method, status, provider_payment_id, card_brand, card_last4, decline_code, refunded_cents, created_at, updated_at';

/** A payment as its callers see it: no card data, the card's brand and last four at most. */
export function paymentView(row: PaymentRow) {
  return {
    orderId: row.order_id, status: row.status, amountCents: row.amount_cents, currency: row.currency,
    card: row.card_brand === null ? null : { brand: row.card_brand, last4: row.card_last4 },
    declineCode: row.decline_code, refundedCents: row.refunded_cents, providerPaymentId: row.provider_payment_id,
    createdAt: row.created_at.toISOString(), updatedAt: row.updated_at.toISOString(),
  };
}
export type PaymentView = ReturnType<typeof paymentView>;

export interface Payments {
  db: Database;
  provider: PaymentProvider;
  events: PaymentEvents;
}

/** The outbox the payment events are written to, and the relay's wake-up once they commit. */
export interface PaymentEvents {
  outbox: Outbox;
  committed(): void;
}

// The key of each step at the provider: one per payment and step, the same for every try.
const keyOf = (payment: PaymentRow, step: 'authorize' | 'capture' | 'void' | 'refund') => `${payment.id}:${step}`;

/** An order's payment; NotFound when it has none. */
export async function findPayment(db: Queryable, orderId: string, options: ProviderCallOptions): Promise<PaymentRow> {
  const { rows: [row] } = await db.query<PaymentRow>(`select ${paymentColumns} from payments where order_id = $1`, [orderId], options);
  if (row === undefined) throw new KitError(Code.NotFound, 'this order has no payment', { details: { orderId } });
  return row;
}

const voidedError = () => new KitError(Code.FailedPrecondition, 'this order\'s payment was voided; it is not authorised again', { reason: 'payment_voided' });

/**
 * Moves a payment on, only from the statuses named: a step and a webhook that tell the same
 * thing, in either order, or a webhook delivered twice, move it once. The move and its event
 * (captured, refunded, failed) commit together, so the event is written once, by whichever
 * moved it. Answers the row as it is after, whether or not this call moved it.
 */
async function advance(payments: Pick<Payments, 'events'> & ({ db: Database } | { tx: Queryable }), id: string, from: readonly PaymentStatus[], to: PaymentStatus, set: Record<string, unknown>, options: ProviderCallOptions): Promise<PaymentRow> {
  const columns = Object.keys(set);
  const move = async (tx: Queryable) => {
    const { rows: [moved] } = await tx.query<PaymentRow>(
      `update payments set status = $2, updated_at = now()${columns.map((column, i) => `, ${column} = $${i + 4}`).join('')}
        where id = $1 and status = any($3) returning ${paymentColumns}`,
      [id, to, from, ...Object.values(set)], options);
    if (moved !== undefined) await addEventOf(tx, payments.events, moved, options);
    return { moved, row: moved ?? (await tx.query<PaymentRow>(`select ${paymentColumns} from payments where id = $1`, [id], options)).rows[0]! };
  };
  // Within a caller's transaction (a webhook's), the caller wakes the relay once it commits.
  if ('tx' in payments) return (await move(payments.tx)).row;
  const { moved, row } = await payments.db.transaction(move, options);
  if (moved !== undefined) payments.events.committed();
  return row;
}

/** The event a move to this status is news of, if any. */
async function addEventOf(tx: Queryable, events: PaymentEvents, row: PaymentRow, options: ProviderCallOptions): Promise<void> {
  const at = new Date().toISOString();
  const base = { orderId: row.order_id, paymentId: row.id, amountCents: row.amount_cents, currency: row.currency };
  const card = row.card_brand === null || row.card_last4 === null ? null : { brand: row.card_brand, last4: row.card_last4 };
  if (row.status === 'captured') await events.outbox.add(tx, paymentCaptured, { aggregateId: row.order_id, data: { ...base, card, capturedAt: at } }, options);
  if (row.status === 'refunded') await events.outbox.add(tx, paymentRefunded, { aggregateId: row.order_id, data: { ...base, amountCents: row.refunded_cents, refundedAt: at } }, options);
  if (row.status === 'declined') await events.outbox.add(tx, paymentFailed, { aggregateId: row.order_id, data: { ...base, declineCode: row.decline_code ?? 'declined', failedAt: at } }, options);
}

const declinedError = (row: PaymentRow) => new KitError(Code.FailedPrecondition, 'the card was declined', {
  reason: 'payment_declined', details: { declineCode: row.decline_code },
});

/** Applies what the provider said of an authorisation: held, or declined. */
function settleAuthorization(payments: Payments, payment: PaymentRow, authorization: Authorization, options: ProviderCallOptions): Promise<PaymentRow> {
  const card = { provider_payment_id: authorization.providerPaymentId, card_brand: authorization.brand, card_last4: authorization.last4 };
  return authorization.outcome === 'authorized'
    ? advance(payments, payment.id, ['authorizing'], 'authorized', card, options)
    : advance(payments, payment.id, ['authorizing'], 'declined', { ...card, decline_code: authorization.declineCode }, options);
}

/**
 * Holds an order's amount on the customer's card. One payment per order: asked again, it
 * answers the payment as it is; one whose outcome was left unknown (the provider's answer was
 * lost) is settled by asking the provider again with the same key, which never charges twice.
 * A declined card is a FailedPrecondition `payment_declined` (402 for the caller); an order
 * whose payment was voided first is never authorised after.
 */
export async function authorizePayment(payments: Payments, input: { orderId: string; amountCents: number; currency: string; method: string }, options: ProviderCallOptions): Promise<PaymentRow> {
  const { db, provider } = payments;
  await db.query(
    `insert into payments (id, order_id, amount_cents, currency, method, status) values ($1, $2, $3, $4, $5, 'authorizing')
     on conflict (order_id) do nothing`,
    [randomUUID(), input.orderId, input.amountCents, input.currency, input.method], options);
  const payment = await findPayment(db, input.orderId, options);
  if (payment.status === 'voided') throw voidedError();
  if (payment.amount_cents !== input.amountCents || payment.currency !== input.currency || payment.method !== input.method) {
    throw new KitError(Code.FailedPrecondition, 'this order\'s payment was asked for with another amount or card', { reason: 'payment_mismatch' });
  }
  const settled = await settledAuthorization(payments, payment, options);
  if (settled.status === 'declined') throw declinedError(settled);
  if (settled.status === 'voided') {
    // Voided while the provider was asked: what it held is let go.
    if (settled.provider_payment_id !== null) await provider.void({ key: keyOf(settled, 'void'), providerPaymentId: settled.provider_payment_id }, options);
    throw voidedError();
  }
  return settled;
}

/**
 * The payment's authorisation settled, when its outcome is not known yet: the provider is asked,
 * with the step's one key, which also settles an earlier try whose answer was lost.
 */
async function settledAuthorization(payments: Payments, payment: PaymentRow, options: ProviderCallOptions): Promise<PaymentRow> {
  if (payment.status !== 'authorizing' || payment.method === null) return payment;
  const authorization = await payments.provider.authorize({
    key: keyOf(payment, 'authorize'), paymentId: payment.id, orderId: payment.order_id, amountCents: payment.amount_cents, currency: payment.currency, method: payment.method,
  }, options).catch(async (error: unknown) => {
    // A method the provider does not know: nothing was made there, so the payment is forgotten,
    // and the order may be voided (or paid with another method) as if it was never asked for.
    if (KitError.from(error).code === Code.InvalidArgument) {
      await payments.db.query(`delete from payments where id = $1 and status = 'authorizing'`, [payment.id], options);
    }
    throw error;
  });
  return settleAuthorization(payments, payment, authorization, options);
}

/** Takes what was held. Captured (or refunded) already: answered as it is. */
export async function capturePayment(payments: Payments, orderId: string, options: ProviderCallOptions): Promise<PaymentRow> {
  const payment = await settledAuthorization(payments, await findPayment(payments.db, orderId, options), options);
  if (payment.status === 'captured' || payment.status === 'refunded') return payment;
  if (payment.status === 'declined') throw declinedError(payment);
  if (payment.status !== 'authorized') throw new KitError(Code.FailedPrecondition, `a ${payment.status} payment cannot be captured`, { reason: 'payment_not_authorized' });
  await payments.provider.capture({ key: keyOf(payment, 'capture'), providerPaymentId: payment.provider_payment_id! }, options);
  return advance(payments, payment.id, ['authorized'], 'captured', {}, options);
}

/**
 * Releases what was held, so nothing is charged. An order with no payment yet gets a voided one,
 * so an authorisation that comes after (a request still on its way) is refused. Voided already,
 * or declined (nothing held): answered as it is. Captured: refund it instead.
 */
export async function voidPayment(payments: Payments, orderId: string, options: ProviderCallOptions): Promise<PaymentRow> {
  // The tombstone of a payment never asked for: nothing to hold, so no amount (and the shop's currency).
  await payments.db.query(
    `insert into payments (id, order_id, amount_cents, currency, status) values ($1, $2, 0, 'EUR', 'voided') on conflict (order_id) do nothing`,
    [randomUUID(), orderId], options);
  const payment = await settledAuthorization(payments, await findPayment(payments.db, orderId, options), options);
  if (payment.status === 'voided' || payment.status === 'declined') return payment;
  if (payment.status !== 'authorized') throw new KitError(Code.FailedPrecondition, `a ${payment.status} payment cannot be voided; refund it`, { reason: 'payment_captured' });
  await payments.provider.void({ key: keyOf(payment, 'void'), providerPaymentId: payment.provider_payment_id! }, options);
  return advance(payments, payment.id, ['authorized'], 'voided', {}, options);
}

/**
 * Gives back all that was taken and not given back yet: a part refunded at the provider (its
 * dashboard) is not refunded twice, and the rest is. Refunded already: answered as it is.
 */
export async function refundPayment(payments: Payments, orderId: string, options: ProviderCallOptions): Promise<PaymentRow> {
  const payment = await findPayment(payments.db, orderId, options);
  if (payment.status === 'refunded') return payment;
  if (payment.status !== 'captured') throw new KitError(Code.FailedPrecondition, `a ${payment.status} payment cannot be refunded`, { reason: 'payment_not_captured' });
  const rest = payment.amount_cents - payment.refunded_cents;
  // Keyed by what it gives back: asked again after a lost answer, the same refund; after a part
  // was refunded meanwhile, a refund of the new rest (the provider never gives back more than it took).
  await payments.provider.refund({ key: `${keyOf(payment, 'refund')}:${rest}`, providerPaymentId: payment.provider_payment_id!, amountCents: rest }, options);
  return advance(payments, payment.id, ['captured'], 'refunded', { refunded_cents: payment.amount_cents }, options);
}

/**
 * A refund the provider tells of, by its own amount: added to what was refunded, and the payment
 * refunded once all of it is. A part (a partial refund made at the provider) is kept as such,
 * so a cancel later gives back the rest instead of taking the part for the whole.
 */
async function applyRefund(inTx: Pick<Payments, 'events'> & { tx: Queryable }, payment: PaymentRow, refundedCents: number | undefined, options: ProviderCallOptions): Promise<void> {
  const refunded = Math.min(payment.amount_cents, payment.refunded_cents + (refundedCents ?? payment.amount_cents));
  if (refunded >= payment.amount_cents) {
    await advance(inTx, payment.id, ['captured'], 'refunded', { refunded_cents: refunded }, options);
    return;
  }
  await inTx.tx.query(`update payments set refunded_cents = $2, updated_at = now() where id = $1 and status = 'captured'`, [payment.id, refunded], options);
}


/**
 * The payment a provider's webhook event is about, by the provider's id for it or by the id this
 * service put in its metadata, locked. Each is a unique index, read as a bitmap of both: with
 * `id::text = $2` as it was, no index could answer the second and every webhook read the whole
 * table (a sequential scan of 100,000 payments, 1,430 pages, on PostgreSQL by hand), held to
 * its indexes by `test/webhook-plan.test.ts`.
 */
export const webhookPaymentStatement = `select ${paymentColumns} from payments where provider_payment_id = $1 or id = $2 for update`;

const paymentIdShape = z.uuid();

/** The metadata's payment id when it can be one of ours (a UUID); the provider's metadata may hold anything. */
function ownPaymentId(paymentId: string | undefined): string | null {
  return paymentIdShape.safeParse(paymentId).success ? paymentId as string : null;
}

/**
 * Applies one of the provider's webhook events, once (a second delivery finds its id), and only
 * forward: an event that comes late, after the step it tells of was already seen, changes nothing.
 * A webhook is how an authorisation whose answer was lost is settled when nobody asks again.
 */
export async function applyProviderEvent(payments: Payments, event: ProviderEvent, options: ProviderCallOptions): Promise<'applied' | 'duplicate' | 'ignored'> {
  const result = await payments.db.transaction(async (tx) => {
    const inTx = { tx, events: payments.events };
    const { rowCount } = await tx.query('insert into webhook_events (id, type) values ($1, $2) on conflict (id) do nothing', [event.id, event.kind], options);
    if (rowCount === 0) return 'duplicate';
    const { rows: [payment] } = await tx.query<PaymentRow>(webhookPaymentStatement, [event.providerPaymentId ?? null, ownPaymentId(event.paymentId)], options);
    if (payment === undefined || event.kind === 'other') return 'ignored';
    const card = { provider_payment_id: event.providerPaymentId ?? null, card_brand: event.brand ?? null, card_last4: event.last4 ?? null };
    switch (event.kind) {
      case 'authorized': await advance(inTx, payment.id, ['authorizing'], 'authorized', card, options); break;
      case 'declined': await advance(inTx, payment.id, ['authorizing'], 'declined', { ...card, decline_code: event.declineCode ?? 'declined' }, options); break;
      case 'captured': await advance(inTx, payment.id, ['authorized'], 'captured', {}, options); break;
      case 'voided': await advance(inTx, payment.id, ['authorizing', 'authorized'], 'voided', {}, options); break;
      case 'refunded': await applyRefund(inTx, payment, event.refundedCents, options); break;
    }
    return 'applied' as const;
  }, options);
  if (result === 'applied') payments.events.committed();
  return result;
}
