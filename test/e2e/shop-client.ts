import { randomUUID } from 'node:crypto';

export interface Answer<T = Record<string, unknown>> {
  status: number;
  contentType: string;
  body: T;
  headers: Headers;
}

export interface OrderPayment { status: string; amountCents: number; currency: string; brand: string | null; last4: string | null; refundedCents: number; refundedAt: string | null }

// Longer than any deadline the shop keeps (a checkout's is 8 s): a call still unanswered then
// is a hang, failed with the call's name rather than left to the test's own timeout.
const hangAfterMs = 60_000;

/** A caller of the public API, as a web page or a script would be: plain fetch, JSON. */
export function createShopClient(base: string) {
  async function call<T = Record<string, unknown>>(method: string, path: string, { body, token, headers = {}, raw }: {
    body?: unknown; token?: string; headers?: Record<string, string>; raw?: string;
  } = {}): Promise<Answer<T>> {
    let res: Response;
    let text: string;
    try {
      res = await fetch(new URL(path, base), {
        method,
        signal: AbortSignal.timeout(hangAfterMs),
        headers: {
          ...(body !== undefined || raw !== undefined ? { 'content-type': 'application/json' } : {}),
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...headers,
        },
        ...(raw !== undefined ? { body: raw } : body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      text = await res.text();
    } catch (error) {
      if ((error as Error).name === 'TimeoutError') throw new Error(`${method} ${path}: no answer within ${hangAfterMs} ms, a hang`, { cause: error });
      throw error;
    }
    return { status: res.status, contentType: res.headers.get('content-type') ?? '', body: (text ? JSON.parse(text) : {}) as T, headers: res.headers };
  }

  /** A new account, signed in by its sign-up: its access token and refresh token. */
  async function signUp(name = 'Ada'): Promise<{ token: string; refreshToken: string; userId: string; email: string }> {
    const email = `${name.toLowerCase()}-${randomUUID()}@example.com`;
    const password = 'correct horse battery staple';
    const created = await call<{ id: string; session: { accessToken: string; refreshToken: string } }>('POST', '/api/v1/users', { body: { email, password, name } });
    if (created.status !== 201) throw new Error(`sign-up answered ${created.status}: ${JSON.stringify(created.body)}`);
    return { token: created.body.session.accessToken, refreshToken: created.body.session.refreshToken, userId: created.body.id, email };
  }

  /** Places an order; with `paymentMethod` (pm_card_visa), paid for, as a shop that takes payment requires. */
  const order = (token: string, items: Array<{ sku: string; quantity: number }>, key = randomUUID(), paymentMethod?: string) =>
    call<{ id: string; status: string; totalCents: number; code?: string; unavailable?: Array<{ sku: string }>; payment?: OrderPayment | null }>(
      'POST', '/api/v1/orders', { token, body: { items, ...(paymentMethod === undefined ? {} : { payment: { method: paymentMethod } }) }, headers: { 'idempotency-key': key } });

  const available = async (sku: string) => (await call<{ available: number }>('GET', `/api/v1/products/${sku}`)).body.available;

  return { call, signUp, order, available };
}
