import { randomBytes } from 'node:crypto';
import type { Queryable, QueryOptions } from '@baton/kit/db';
import { cardOutcome } from './cards.ts';
import { StripeError, invalidRequest, missing, unexpectedState } from './stripe-error.ts';

/**
 * The provider's ledger: payment intents and refunds, with Stripe's state machine. A card is
 * authorised at confirmation (status `requires_capture` when the capture is manual), captured
 * (`succeeded`), cancelled before capture (`canceled`), refunded after; a declined card leaves
 * the intent `requires_payment_method` with its `last_payment_error`. Every change writes the
 * event a webhook will carry, in the same transaction.
 */

type IntentStatus = 'requires_payment_method' | 'requires_confirmation' | 'requires_capture' | 'succeeded' | 'canceled';

interface IntentRow {
  id: string;
  amount: number;
  currency: string;
  status: IntentStatus;
  capture_method: 'automatic' | 'manual';
  payment_method: string | null;
  card_brand: string | null;
  card_last4: string | null;
  amount_capturable: number;
  amount_received: number;
  amount_refunded: number;
  last_payment_error: Record<string, unknown> | null;
  cancellation_reason: string | null;
  metadata: Record<string, string>;
  created: Date;
}

interface RefundRow {
  id: string;
  payment_intent: string;
  amount: number;
  currency: string;
  status: 'succeeded';
  reason: string | null;
  metadata: Record<string, string>;
  created: Date;
}

const unixSeconds = (date: Date) => Math.floor(date.getTime() / 1_000);
/** Stripe's ids: a prefix and 24 random characters. */
export const newId = (prefix: string) => `${prefix}_${randomBytes(18).toString('base64url').slice(0, 24)}`;
// The charge of an intent has an id derived from the intent's: one charge per intent here.
const chargeIdOf = (intentId: string) => `ch_${intentId.slice(3)}`;

/** The charge behind an intent, as `expand[]=latest_charge` shows it: where the card's brand and last four are. */
function chargeOf(row: IntentRow) {
  return {
    id: chargeIdOf(row.id), object: 'charge', amount: row.amount, amount_captured: row.amount_received, amount_refunded: row.amount_refunded,
    captured: row.amount_received > 0, refunded: row.amount_refunded > 0 && row.amount_refunded === row.amount_received,
    currency: row.currency, payment_intent: row.id, status: 'succeeded',
    payment_method_details: { type: 'card', card: { brand: row.card_brand, last4: row.card_last4 } },
  };
}

export function intentObject(row: IntentRow, { expandCharge = false } = {}) {
  const charged = row.card_brand !== null && row.last_payment_error === null;
  return {
    id: row.id, object: 'payment_intent', amount: row.amount, amount_capturable: row.amount_capturable, amount_received: row.amount_received,
    currency: row.currency, status: row.status, capture_method: row.capture_method, payment_method: row.payment_method,
    cancellation_reason: row.cancellation_reason, last_payment_error: row.last_payment_error, metadata: row.metadata,
    latest_charge: charged ? (expandCharge ? chargeOf(row) : chargeIdOf(row.id)) : null,
    created: unixSeconds(row.created), livemode: false,
  };
}

export function refundObject(row: RefundRow) {
  return {
    id: row.id, object: 'refund', amount: row.amount, currency: row.currency, payment_intent: row.payment_intent, charge: chargeIdOf(row.payment_intent),
    status: row.status, reason: row.reason, metadata: row.metadata, created: unixSeconds(row.created),
  };
}

async function addEvent(ledger: Ledger, type: string, object: unknown): Promise<void> {
  const { delayMs, copies } = ledger.eventDelivery();
  await ledger.tx.query(
    `insert into events (id, type, payload, next_try_at, copies) values ($1, $2, $3, now() + make_interval(secs => $4::double precision / 1000), $5)`,
    [newId('evt'), type, JSON.stringify({ object }), delayMs, copies], ledger.options);
}

async function lockedIntent(tx: Queryable, id: string, options: QueryOptions): Promise<IntentRow> {
  const { rows: [row] } = await tx.query<IntentRow>('select * from payment_intents where id = $1 for update', [id], options);
  if (row === undefined) throw missing('payment_intent', id);
  return row;
}

export interface Ledger {
  tx: Queryable;
  options: QueryOptions;
  /** How the event of each change is to be delivered: after how long, and how many times. */
  eventDelivery(): { delayMs: number; copies: number };
}

export interface CreateIntent {
  amount: number;
  currency: string;
  captureMethod: 'automatic' | 'manual';
  paymentMethod: string | undefined;
  confirm: boolean;
  metadata: Record<string, string>;
}

export async function createIntent(ledger: Ledger, input: CreateIntent): Promise<IntentRow> {
  const { rows: [row] } = await ledger.tx.query<IntentRow>(
    `insert into payment_intents (id, amount, currency, status, capture_method, payment_method, metadata)
     values ($1, $2, $3, $4, $5, $6, $7) returning *`,
    [newId('pi'), input.amount, input.currency, input.paymentMethod ? 'requires_confirmation' : 'requires_payment_method', input.captureMethod,
      input.paymentMethod ?? null, JSON.stringify(input.metadata)], ledger.options);
  await addEvent(ledger, 'payment_intent.created', intentObject(row!));
  return input.confirm ? confirmIntent(ledger, row!.id, input.paymentMethod) : row!;
}

/**
 * Charges the intent's card: authorised and held (manual capture) or taken at once (automatic).
 * A declined card leaves the intent waiting for another payment method, its decline kept (and
 * its event), as Stripe keeps it; `confirmationAnswer` words it.
 */
export async function confirmIntent(ledger: Ledger, id: string, paymentMethod: string | undefined): Promise<IntentRow> {
  const intent = await lockedIntent(ledger.tx, id, ledger.options);
  if (intent.status !== 'requires_payment_method' && intent.status !== 'requires_confirmation') throw unexpectedState(intent, 'confirmation');
  const method = paymentMethod ?? intent.payment_method;
  if (!method) throw invalidRequest('You must provide a payment_method to confirm this PaymentIntent.', 'payment_method', 'parameter_missing');
  const card = cardOutcome(method);
  if (card === undefined) throw missing('PaymentMethod', method, 'payment_method');
  if (!card.ok) {
    const error = { type: 'card_error', code: 'card_declined', decline_code: card.declineCode, message: card.message, payment_method: { id: method } };
    const { rows: [declined] } = await ledger.tx.query<IntentRow>(
      `update payment_intents set status = 'requires_payment_method', payment_method = null, card_brand = $2, card_last4 = $3, last_payment_error = $4
        where id = $1 returning *`, [id, card.brand, card.last4, JSON.stringify(error)], ledger.options);
    await addEvent(ledger, 'payment_intent.payment_failed', intentObject(declined!));
    return declined!;
  }
  const manual = intent.capture_method === 'manual';
  const { rows: [charged] } = await ledger.tx.query<IntentRow>(
    `update payment_intents set status = $2, payment_method = $3, card_brand = $4, card_last4 = $5, last_payment_error = null,
            amount_capturable = $6, amount_received = $7
      where id = $1 returning *`,
    [id, manual ? 'requires_capture' : 'succeeded', method, card.brand, card.last4, manual ? intent.amount : 0, manual ? 0 : intent.amount], ledger.options);
  await addEvent(ledger, manual ? 'payment_intent.amount_capturable_updated' : 'payment_intent.succeeded', intentObject(charged!));
  return charged!;
}

/**
 * The answer to a confirmation: the intent, or (a card the issuer refused) a 402 card_error
 * with the decline and the intent as it now is. Not thrown: the decline is kept, and so is the
 * answer under the request's idempotency key.
 */
export function confirmationAnswer(intent: IntentRow, { expandCharge = false } = {}): { status: number; body: unknown } {
  if (intent.status === 'requires_payment_method' && intent.last_payment_error !== null) {
    return { status: 402, body: { error: { ...intent.last_payment_error, payment_intent: intentObject(intent) } } };
  }
  return { status: 200, body: intentObject(intent, { expandCharge }) };
}

export async function captureIntent(ledger: Ledger, id: string, amountToCapture: number | undefined): Promise<IntentRow> {
  const intent = await lockedIntent(ledger.tx, id, ledger.options);
  if (intent.status !== 'requires_capture') throw unexpectedState(intent, 'capture');
  const amount = amountToCapture ?? intent.amount_capturable;
  if (amount < 1 || amount > intent.amount_capturable) throw invalidRequest(`amount_to_capture must be between 1 and ${intent.amount_capturable}`, 'amount_to_capture');
  const { rows: [captured] } = await ledger.tx.query<IntentRow>(
    `update payment_intents set status = 'succeeded', amount_capturable = 0, amount_received = $2 where id = $1 returning *`, [id, amount], ledger.options);
  await addEvent(ledger, 'payment_intent.succeeded', intentObject(captured!));
  return captured!;
}

/** Cancels an intent not yet captured: a held authorisation is released, nothing is charged. */
export async function cancelIntent(ledger: Ledger, id: string, reason: string | undefined): Promise<IntentRow> {
  const intent = await lockedIntent(ledger.tx, id, ledger.options);
  if (intent.status === 'succeeded' || intent.status === 'canceled') throw unexpectedState(intent, 'cancellation');
  const { rows: [cancelled] } = await ledger.tx.query<IntentRow>(
    `update payment_intents set status = 'canceled', amount_capturable = 0, cancellation_reason = $2 where id = $1 returning *`, [id, reason ?? null], ledger.options);
  await addEvent(ledger, 'payment_intent.canceled', intentObject(cancelled!));
  return cancelled!;
}

/** Gives back what was captured, all that remains or `amount` of it. */
export async function refund(ledger: Ledger, input: { paymentIntent: string; amount: number | undefined; reason: string | undefined; metadata: Record<string, string> }): Promise<RefundRow> {
  const intent = await lockedIntent(ledger.tx, input.paymentIntent, ledger.options).catch((error: unknown) => {
    throw error instanceof StripeError && error.status === 404 ? missing('payment_intent', input.paymentIntent, 'payment_intent') : error;
  });
  if (intent.status !== 'succeeded') throw unexpectedState(intent, 'refund');
  const left = intent.amount_received - intent.amount_refunded;
  if (left === 0) throw new StripeError(400, { type: 'invalid_request_error', code: 'charge_already_refunded', message: `Charge ${chargeIdOf(intent.id)} has already been refunded.` });
  const amount = input.amount ?? left;
  if (amount < 1 || amount > left) throw invalidRequest(`Refund amount (${amount}) is greater than unrefunded amount on charge (${left})`, 'amount', 'amount_too_large');
  await ledger.tx.query('update payment_intents set amount_refunded = amount_refunded + $2 where id = $1', [intent.id, amount], ledger.options);
  const { rows: [row] } = await ledger.tx.query<RefundRow>(
    `insert into refunds (id, payment_intent, amount, currency, status, reason, metadata) values ($1, $2, $3, $4, 'succeeded', $5, $6) returning *`,
    [newId('re'), intent.id, amount, intent.currency, input.reason ?? null, JSON.stringify(input.metadata)], ledger.options);
  await addEvent(ledger, 'refund.created', refundObject(row!));
  return row!;
}

export async function findIntent(db: Queryable, id: string, options: QueryOptions): Promise<IntentRow> {
  const { rows: [row] } = await db.query<IntentRow>('select * from payment_intents where id = $1', [id], options);
  if (row === undefined) throw missing('payment_intent', id);
  return row;
}

/** Stripe's list: newest first, `limit` of them, after the intent `startingAfter`. */
export function listIntents(db: Queryable, { limit, startingAfter }: { limit: number; startingAfter: string | undefined }, options: QueryOptions) {
  return listPage<IntentRow>(db, { table: 'payment_intents', object: 'payment_intent', limit, startingAfter }, options);
}

/** The same for refunds, of one payment intent or of all. */
export function listRefunds(db: Queryable, { paymentIntent, limit, startingAfter }: { paymentIntent: string | undefined; limit: number; startingAfter: string | undefined }, options: QueryOptions) {
  return listPage<RefundRow>(db, { table: 'refunds', object: 'refund', limit, startingAfter, paymentIntent }, options);
}

/**
 * One page of a list, Stripe's way: newest first, after the object `startingAfter` names (a
 * cursor on the row's `seq`), and whether more follow. One query for every list, so each pages.
 */
async function listPage<Row extends object>(db: Queryable, { table, object, limit, startingAfter, paymentIntent }: {
  table: 'payment_intents' | 'refunds'; object: string; limit: number; startingAfter: string | undefined; paymentIntent?: string | undefined;
}, options: QueryOptions) {
  let after: string | null = null;
  if (startingAfter !== undefined) {
    const { rows: [cursor] } = await db.query<{ seq: string }>(`select seq from ${table} where id = $1`, [startingAfter], options);
    if (cursor === undefined) throw missing(object, startingAfter, 'starting_after');
    after = cursor.seq;
  }
  const { rows } = await db.query<Row>(
    `select * from ${table} where ($2::bigint is null or seq < $2) ${table === 'refunds' ? 'and ($3::text is null or payment_intent = $3)' : 'and $3::text is null'}
      order by seq desc limit $1`, [limit + 1, after, paymentIntent ?? null], options);
  return { rows: rows.slice(0, limit), hasMore: rows.length > limit };
}
