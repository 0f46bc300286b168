import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { startNatsServer } from '@baton/kit/testing';
import { createShopClient } from './shop-client.ts';
import { assertExactlyOnce, lastInFirstOut, startEventShop, waitForNotifications } from './events-support.ts';

// The broker stops for 10 s in the middle of checkout traffic. Orders does not need it to take
// an order (the event waits in its outbox), so every checkout still answers 201, and once the
// broker is back every event reaches notifications. The broker is a nats-server of this test's
// own: the shared one is never stopped.

const outageMs = 10_000;

void test('NATS stopped for 10 s during orders: checkout keeps answering 201, and every event arrives after it returns', async (t) => {
  const server = await startNatsServer(t);
  if (server === undefined) return;
  const shop = await startEventShop(lastInFirstOut(t), { transport: 'nats', broker: { url: server.url, namespace: 'outage' } });
  if (shop.note) t.diagnostic(shop.note);
  const api = createShopClient(shop.gateway);
  const buyers = await Promise.all(Array.from({ length: 4 }, (_, i) => api.signUp(`Outage${i}`)));
  const tokens = buyers.map((b) => b.token);
  await waitForNotifications(api, tokens, (lists) => lists.every((list) => list.length === 1));

  const placed = new Map<string, number>();
  const statuses: number[] = [];
  const refusals: unknown[] = [];
  let phase: 'before' | 'outage' | 'after' = 'before';
  const duringOutage: number[] = [];
  let stop = false;
  async function buyer(index: number): Promise<void> {
    for (let i = 0; !stop; i++) {
      // One try each: the claim is that checkout does not fail, not that it succeeds in the end.
      const answer = await api.order(buyers[index]!.token, [{ sku: i % 2 === 0 ? 'FILTER-PAPER-100' : 'GIFT-CARD-25', quantity: 1 }]);
      statuses.push(answer.status);
      if (answer.status !== 201) refusals.push(answer.body);
      if (phase === 'outage') duringOutage.push(answer.status);
      if (answer.status === 201) placed.set(answer.body.id, index);
      // Paced so that four buyers over the test's 12 s cannot empty the stock of either product
      // (500 and 400; at most about 460 orders at this pace): on a quiet machine, 20 ms between
      // orders took more than 500 filter papers, and the 409s were out of stock, not the outage.
      await sleep(100);
    }
  }
  const buying = Promise.all(buyers.map((_, index) => buyer(index)));
  await sleep(1_000);
  await server.stop();
  phase = 'outage';
  // While it is down notifications says so in its readiness (orders does not: it still works).
  const ready = await fetch(new URL('/readyz', shop.stack.url('notifications')));
  assert.equal(ready.status, 503);
  assert.equal(((await ready.json()) as { checks: Record<string, string> }).checks.broker, 'failing');
  assert.equal((await fetch(new URL('/readyz', shop.stack.url('orders')))).status, 200);
  await sleep(outageMs);
  await server.start();
  phase = 'after';
  await sleep(1_000);
  stop = true;
  await buying;

  assert.ok(duringOutage.length >= 20, `orders were placed during the outage (${duringOutage.length})`);
  assert.deepEqual([...new Set(statuses)], [201], `every checkout answered 201, before, during and after the outage: ${JSON.stringify(refusals.slice(0, 3))}`);
  const all = await waitForNotifications(api, tokens, (lists) => lists.reduce((sum, list) => sum + list.length, 0) >= placed.size + buyers.length);
  assertExactlyOnce(all, placed, new Set());
  await shop.stack.waitReady('notifications');
});
