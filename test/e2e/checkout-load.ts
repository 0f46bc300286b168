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
export function startCheckoutLoad(api: ReturnType<typeof createShopClient>, tokens: readonly string[], { registrants = 0 } = {}): CheckoutLoad {
  const seen: SeenCall[] = [];
  let running = true;
  async function timed(kind: SeenCall['kind'], call: () => Promise<Answer>): Promise<void> {
    const startedAt = performance.now();
    const answer = await call();
    const endedAt = performance.now();
    seen.push({ kind, status: answer.status, retryAfter: answer.headers.get('retry-after'), endedAt, tookMs: endedAt - startedAt, body: answer.body });
  }
  const workers = [
    ...tokens.map(async (token) => {
      while (running) await timed('keyed', () => api.order(token, [{ sku: 'COFFEE-250G', quantity: 1 }], randomUUID()));
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
