import { KitError } from '@baton/kit/errors';
import type { HttpClient } from '@baton/kit/http';
import type { CallOptions } from './call-options.ts';
import { withOutOfStockDetails } from './out-of-stock.ts';
import type { InventoryApi, Payment, PaymentApi, Reservation, UsersApi } from './upstreams.ts';

const call = (options: CallOptions) => ({ signal: options.signal, ...(options.requestId ? { requestId: options.requestId } : {}) });

/** The users service over HTTP/JSON, through the kit's client (deadline, breaker, retries). */
export function createHttpUsersApi(client: HttpClient): UsersApi {
  return {
    async getUser(userId, options) {
      const { body } = await client.request<{ id: string; email: string; name: string }>({
        method: 'GET', path: `/v1/users/${encodeURIComponent(userId)}`, ...call(options),
      });
      return body;
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
      const response = await client.request<Reservation & { items: Array<{ name?: string }> }>({ method: 'POST', path, body, idempotencyKey: `reservation-${orderId}`, ...call(options) });
      return { ...response.body, items: response.body.items.map((line) => ({ ...line, name: line.name || line.sku })) };
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
    const { body: payment } = await client.request<Omit<Payment, 'brand' | 'last4'> & { card: { brand: string; last4: string } | null }>({
      method: 'POST', path: `/v1/payments/${orderId}/${step}`, body, idempotencyKey: `payment-${orderId}-${step}`, ...call(options),
    });
    return { status: payment.status, amountCents: payment.amountCents, currency: payment.currency, brand: payment.card?.brand ?? null, last4: payment.card?.last4 ?? null, refundedCents: payment.refundedCents };
  };
  return {
    authorize: (orderId, input, options) => post(orderId, 'authorize', input, options),
    capture: (orderId, options) => post(orderId, 'capture', undefined, options),
    void: (orderId, options) => post(orderId, 'void', undefined, options),
    refund: (orderId, options) => post(orderId, 'refund', undefined, options),
  };
}
