import { z } from '@baton/kit/config';
import { KitError } from '@baton/kit/errors';
import type { HttpClient } from '@baton/kit/http';
import { badAnswer } from './bad-answer.ts';
import type { CallOptions } from './call-options.ts';
import { withOutOfStockDetails } from './out-of-stock.ts';
import type { InventoryApi, Payment, PaymentApi, Reservation, UsersApi } from './upstreams.ts';

const call = (options: CallOptions) => ({ signal: options.signal, ...(options.requestId ? { requestId: options.requestId } : {}) });

// What checkout reads of each answer, checked as the gRPC client's decoding and checks do: an
// answer without a field its server always sends is the upstream's fault (`bad_response`), not a
// TypeError later in checkout. Fields checkout does not read are let through unread.
const count = z.number().int().nonnegative();
const userAnswer = z.object({ id: z.string(), email: z.string(), name: z.string() });
const reservationAnswer = z.object({
  orderId: z.string(),
  status: z.enum(['held', 'confirmed', 'released', 'expired']),
  items: z.array(z.object({ sku: z.string(), quantity: count, priceCents: count, currency: z.string(), name: z.string().optional() })),
});
const paymentAnswer = z.object({
  status: z.enum(['authorizing', 'authorized', 'declined', 'captured', 'voided', 'refunded']),
  amountCents: count,
  currency: z.string(),
  card: z.object({ brand: z.string(), last4: z.string().nullable() }).nullable(),
  refundedCents: count,
});

function checked<T>(schema: z.ZodType<T>, body: unknown, what: string): T {
  const answer = schema.safeParse(body);
  if (answer.success) return answer.data;
  const issue = answer.error.issues[0];
  throw badAnswer(`${what} answered without a valid ${issue?.path.join('.') || 'body'}: ${issue?.message ?? 'unreadable'}`);
}

/** The users service over HTTP/JSON, through the kit's client (deadline, breaker, retries). */
export function createHttpUsersApi(client: HttpClient): UsersApi {
  return {
    async getUser(userId, options) {
      const { body } = await client.request({ method: 'GET', path: `/v1/users/${encodeURIComponent(userId)}`, ...call(options) });
      const user = checked(userAnswer, body, 'GET /v1/users/:id');
      return { id: user.id, email: user.email, name: user.name };
    },
  };
}

/**
 * The inventory service over HTTP/JSON. Reserving is a POST, made repeatable (and so
 * retryable) by its idempotency key, the order id: inventory reserves once per order id.
 */
export function createHttpInventoryApi(client: HttpClient): InventoryApi {
  const post = async (path: string, body: unknown, orderId: string, options: CallOptions) => {
    try {
      const response = await client.request({ method: 'POST', path, body, idempotencyKey: `reservation-${orderId}`, ...call(options) });
      const reservation = checked(reservationAnswer, response.body, 'a reservation call');
      return {
        orderId: reservation.orderId,
        status: reservation.status,
        items: reservation.items.map(({ sku, quantity, priceCents, currency, name }) => ({ sku, quantity, priceCents, currency, name: name || sku })),
      } satisfies Reservation;
    } catch (error) {
      throw withOutOfStockDetails(KitError.from(error));
    }
  };
  return {
    reserve: (orderId, items, options) => post('/v1/reservations', { orderId, items }, orderId, options),
    confirm: (orderId, options) => post(`/v1/reservations/${orderId}/confirm`, undefined, orderId, options),
    release: (orderId, options) => post(`/v1/reservations/${orderId}/release`, undefined, orderId, options),
  };
}

/**
 * The payment service over HTTP/JSON. Each step is a POST the payment service answers the same
 * however often it is sent (one payment per order, one provider key per step), so its key here,
 * the order id and step, makes it retryable.
 */
export function createHttpPaymentApi(client: HttpClient): PaymentApi {
  const post = async (orderId: string, step: 'authorize' | 'capture' | 'void' | 'refund', body: unknown, options: CallOptions): Promise<Payment> => {
    const answer = await client.request({
      method: 'POST', path: `/v1/payments/${orderId}/${step}`, body, idempotencyKey: `payment-${orderId}-${step}`, ...call(options),
    });
    const payment = checked(paymentAnswer, answer.body, `POST /v1/payments/:orderId/${step}`);
    return { status: payment.status, amountCents: payment.amountCents, currency: payment.currency, brand: payment.card?.brand ?? null, last4: payment.card?.last4 ?? null, refundedCents: payment.refundedCents };
  };
  return {
    authorize: (orderId, input, options) => post(orderId, 'authorize', input, options),
    capture: (orderId, options) => post(orderId, 'capture', undefined, options),
    void: (orderId, options) => post(orderId, 'void', undefined, options),
    refund: (orderId, options) => post(orderId, 'refund', undefined, options),
  };
}
