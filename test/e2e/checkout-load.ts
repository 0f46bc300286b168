import { randomUUID } from 'node:crypto';
import type { Answer, createShopClient } from './shop-client.ts';

export interface SeenCall {
  kind: 'keyed' | 'unkeyed';
  status: number;
  retryAfter: string | null;
  /** performance.now() when the answer came. */
  endedAt: number;
  tookMs: number;
  body: unknown;
  /** Keyed calls only: how many times the same key was sent again after a 503 (see `keyedRetries`). */
  retries?: number;
  /** Keyed calls sent again only: the first 503's body and how long that try took, so a failure says why. */
  firstRefusal?: { body: unknown; tookMs: number };
}

export interface CheckoutLoad {
  /** Every answer so far, in the order they came. */
  readonly seen: SeenCall[];
  /** Stops starting calls and resolves once the last one has answered. */
  stop(): Promise<void>;
}

/**
 * Shoppers at work through the gateway, each with one call in flight at a time: `buyers` place
 * orders, each with a key of its own (keyed: the kit may try them again), and `registrants`
 * sign up (a POST without a key: it may not).
 */
export function startCheckoutLoad(api: ReturnType<typeof createShopClient>, tokens: readonly string[], { registrants = 0, keyedRetries = 0 } = {}): CheckoutLoad {
  const seen: SeenCall[] = [];
  let running = true;
  async function timed(kind: SeenCall['kind'], call: () => Promise<Answer>, retried?: () => { retries: number; longestMs: number; firstRefusal?: SeenCall['firstRefusal'] }): Promise<void> {
    const startedAt = performance.now();
    const answer = await call();
    const endedAt = performance.now();
    // With retries, how long the slowest one call took: what a deadline bounds (the waits between are the client's).
    const tries = retried?.();
    seen.push({
      kind, status: answer.status, retryAfter: answer.headers.get('retry-after'), endedAt, tookMs: tries?.longestMs ?? endedAt - startedAt, body: answer.body,
      ...(tries ? { retries: tries.retries } : {}),
      ...(tries?.firstRefusal ? { firstRefusal: tries.firstRefusal } : {}),
    });
  }
  /**
   * An order as a careful client places it: with `keyedRetries` > 0, a 503 is sent again with the
   * same key once its Retry-After has passed, up to that many times (safe: the key makes it one
   * order). The answer recorded is the last.
   */
  async function order(token: string, count: (tries: { retries: number; longestMs: number; firstRefusal?: SeenCall['firstRefusal'] }) => void): Promise<Answer> {
    const key = randomUUID();
    let longestMs = 0;
    let firstRefusal: SeenCall['firstRefusal'];
    for (let retries = 0; ; retries++) {
      const startedAt = performance.now();
      const answer = await api.order(token, [{ sku: 'COFFEE-250G', quantity: 1 }], key);
      const tookMs = performance.now() - startedAt;
      longestMs = Math.max(longestMs, tookMs);
      if (answer.status !== 503 || retries >= keyedRetries) {
        count({ retries, longestMs, ...(firstRefusal === undefined ? {} : { firstRefusal }) });
        return answer;
      }
      firstRefusal ??= { body: answer.body, tookMs };
      await new Promise((resolve) => setTimeout(resolve, Math.max(1, Number(answer.headers.get('retry-after') ?? 1)) * 1_000));
    }
  }
  const workers = [
    ...tokens.map(async (token) => {
      while (running) {
        let tries: { retries: number; longestMs: number; firstRefusal?: SeenCall['firstRefusal'] } = { retries: 0, longestMs: 0 };
        await timed('keyed', () => order(token, (counted) => { tries = counted; }), () => tries);
      }
    }),
    ...Array.from({ length: registrants }, async () => {
      while (running) {
        await timed('unkeyed', () => api.call('POST', '/api/v1/users', { body: { email: `r-${randomUUID()}@example.com`, password: 'correct horse battery staple', name: 'R' } }));
      }
    }),
  ];
  return {
    seen,
    async stop() {
      running = false;
      await Promise.all(workers);
    },
  };
}
