import { randomUUID } from 'node:crypto';
import { request, type Agent } from 'undici';
import type { Side } from './sides.ts';

export interface PairsRound {
  pairs: number;
  failures: number;
  seconds: number;
  orderLatenciesMs: number[];
}

/**
 * `concurrency` buyers, each placing an order of one unit (of `skuOf(buyer)`) and cancelling it,
 * one pair after the other, for `durationMs` (paid with the side's test card, where it takes
 * payment: the cancel then refunds). The cancel gives the stock back, so a product never runs
 * out however long the run. A pair counts once both answered 201 and 200.
 */
export async function runPairs(side: Side, dispatcher: Agent, { concurrency, durationMs, skuOf }: { concurrency: number; durationMs: number; skuOf: (buyer: number) => string }): Promise<PairsRound> {
  const authorization = `Bearer ${side.token}`;
  const orderLatenciesMs: number[] = [];
  let pairs = 0;
  let failures = 0;
  const startedAt = performance.now();
  const endAt = startedAt + durationMs;
  await Promise.all(Array.from({ length: concurrency }, async (_, buyer) => {
    const body = JSON.stringify({ items: [{ sku: skuOf(buyer), quantity: 1 }], ...(side.paymentMethod === undefined ? {} : { payment: { method: side.paymentMethod } }) });
    while (performance.now() < endAt) {
      try {
        const t0 = performance.now();
        const order = await request(`${side.gateway}/api/v1/orders`, {
          method: 'POST', headers: { 'content-type': 'application/json', authorization, 'idempotency-key': randomUUID() }, body, dispatcher,
        });
        const placed = (await order.body.json()) as { id?: string };
        if (order.statusCode !== 201 || placed.id === undefined) throw new Error(`order answered ${order.statusCode}`);
        orderLatenciesMs.push(performance.now() - t0);
        const cancel = await request(`${side.gateway}/api/v1/orders/${placed.id}/cancel`, { method: 'POST', headers: { authorization }, dispatcher });
        await cancel.body.dump();
        if (cancel.statusCode !== 200) throw new Error(`cancel answered ${cancel.statusCode}`);
        pairs += 1;
      } catch {
        failures += 1;
      }
    }
  }));
  return { pairs, failures, seconds: (performance.now() - startedAt) / 1000, orderLatenciesMs };
}
