import { createJsonClient, type Answer } from '@baton/kit/testing';

export type { Answer };
import { randomUUID } from 'node:crypto';

export interface Problem {
  type: string;
  status: number;
  code: string;
  reason?: string;
  detail: string;
  errors?: Array<{ field: string; message: string }>;
  [member: string]: unknown;
}

export interface Product {
  sku: string;
  name: string;
  description: string;
  category: string;
  images: string[];
  priceCents: number;
  currency: string;
  available: number;
}

export interface ProductPage {
  items: Product[];
  nextCursor: string | null;
}

export interface Reservation {
  orderId: string;
  status: 'held' | 'confirmed' | 'released' | 'expired';
  items: Array<{ sku: string; quantity: number; priceCents: number; currency: string }>;
  expiresAt: string;
}

export type Line = { sku: string; quantity: number };

/**
 * A small client for the inventory API over real HTTP. Node's fetch keeps connections alive,
 * so concurrent tests reuse sockets like a real caller would. The answer's body is parsed as
 * JSON when it is JSON; `T` is what the test expects it to be.
 */
export function createClient(baseUrl: string) {
  // Each route as its real caller calls it: the catalogue the gateway, reservations orders.
  const { send } = createJsonClient(baseUrl, {
    as: (_method, path) => ({ caller: path.startsWith('/v1/reservations') ? 'orders' : 'gateway', callee: 'inventory' }),
  });

  return {
    send,
    product: (sku: string) => send<Product>('GET', `/v1/products/${sku}`),
    products: (query = '') => send<ProductPage>('GET', `/v1/products${query}`),
    async available(sku: string): Promise<number> {
      const answer = await send<Product>('GET', `/v1/products/${sku}`);
      if (answer.status !== 200) throw new Error(`GET /v1/products/${sku} answered ${answer.status}`);
      return answer.body.available;
    },
    reserve: (items: Line[], { orderId = randomUUID(), ttlSeconds }: { orderId?: string; ttlSeconds?: number } = {}) =>
      send<Reservation>('POST', '/v1/reservations', { json: { orderId, items, ...(ttlSeconds === undefined ? {} : { ttlSeconds }) } }),
    reservation: (orderId: string) => send<Reservation>('GET', `/v1/reservations/${orderId}`),
    confirm: (orderId: string) => send<Reservation>('POST', `/v1/reservations/${orderId}/confirm`),
    release: (orderId: string) => send<Reservation>('POST', `/v1/reservations/${orderId}/release`),
  };
}

export type Client = ReturnType<typeof createClient>;

/** Views an answer as a problem document, for assertions on error answers. */
export function problemOf(answer: Answer<unknown>): Problem {
  return answer.body as Problem;
}

/** Reserves (and keeps) whatever is above `units`, so exactly `units` remain available. */
export async function leaveAvailable(client: Client, sku: string, units: number): Promise<void> {
  const surplus = (await client.available(sku)) - units;
  if (surplus < 0) throw new Error(`${sku} has fewer than ${units} units`);
  if (surplus === 0) return;
  const answer = await client.reserve([{ sku, quantity: surplus }], { ttlSeconds: 3_600 });
  if (answer.status !== 201) throw new Error(`could not set ${sku} aside: ${answer.status}`);
}

/**
 * Waits for `condition` to hold, checking every `intervalMs`, and fails after `timeoutMs`:
 * a bounded wait for background work, never an assertion about how long it takes.
 */
export async function eventually(condition: () => Promise<boolean>, { timeoutMs = 15_000, intervalMs = 50, what = 'the condition' } = {}): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
