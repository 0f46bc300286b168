import { KitError } from '@baton/kit/errors';
import type { HttpClient } from '@baton/kit/http';
import type { CallOptions } from './call-options.ts';
import { withOutOfStockDetails } from './out-of-stock.ts';
import type { InventoryApi, Reservation, UsersApi } from './upstreams.ts';

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
