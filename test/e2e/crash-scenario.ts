import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { TestBroker } from '@baton/kit/testing';
import { createShopClient } from './shop-client.ts';
import { assertExactlyOnce, cancelSurely, lastInFirstOut, placeOrderSurely, startEventShop, tryOrder, waitForNotifications, type Transport } from './events-support.ts';

// "An order that got a 201 always produces its email, exactly once in effect, whatever crashes
// in between": 500 orders through the gateway while the orders process (its relay inside) is
// killed with SIGKILL three times and notifications twice, on each transport.

const orderCount = 500;
const buyers = 20;
const concurrency = 8;
// When (by orders answered) each crash happens.
// Spread over the run, each once the service is ready again (see below).
const crashes: Array<{ at: number; service: 'orders' | 'notifications' }> = [
  { at: 60, service: 'orders' }, { at: 130, service: 'notifications' }, { at: 200, service: 'orders' },
  { at: 270, service: 'notifications' }, { at: 340, service: 'orders' },
];

/** Runs the scenario on one transport; the three test files each run it on theirs, in parallel with other files. */
export async function crashScenario(t: TestContext, transport: Transport, broker?: TestBroker): Promise<void> {
  const t0 = performance.now();
  const mark = (what: string) => t.diagnostic(`${what} at ${Math.round(performance.now() - t0)} ms`);
  // A request that dies with orders holds its Idempotency-Key until it counts as stale; with a
  // 3 s checkout deadline, 4 s is safe and keeps the test short (the default is 30 s).
  const shop = await startEventShop(lastInFirstOut(t), {
    transport, broker, serviceEnv: { orders: { CHECKOUT_DEADLINE_MS: '3000', IDEMPOTENCY_STALE_AFTER_MS: '4000' } },
  });
  mark('started');
  if (shop.note) t.diagnostic(shop.note);
  const api = createShopClient(shop.gateway);
  // A few at a time: a sign-up hashes a password, and the users service runs two hashes at once.
  const users: Array<Awaited<ReturnType<typeof api.signUp>>> = [];
  for (let i = 0; i < buyers; i += 4) users.push(...await Promise.all(Array.from({ length: Math.min(4, buyers - i) }, (_, j) => api.signUp(`Buyer${i + j}`))));

  const placed = new Map<string, number>();
  const cancelled = new Set<string>();
  let answered = 0;
  let next = 0;
  // The crashes, one after the other, each once the service it kills is ready again, so every
  // kill hits a running relay (orders) or consumer (notifications), not a process still starting.
  const crashing = (async () => {
    for (const crash of crashes) {
      while (answered < crash.at) await sleep(20);
      await shop.stack.waitReady(crash.service);
      mark(`kill ${crash.service}`);
      await shop.stack.kill(crash.service, 'SIGKILL');
    }
  })();
  const retrying: Array<Promise<void>> = [];
  async function settle(i: number, answer: { status: number; id?: string }): Promise<void> {
    // 250 units of each are in stock, so every order can succeed: a 409 would mean a bug.
    assert.equal(answer.status, 201, `order ${i} got ${answer.status}`);
    placed.set(answer.id!, i % buyers);
    // Every tenth order is cancelled at once: its order.created and order.cancelled travel close together.
    if (i % 10 === 0) {
      await cancelSurely(api, users[i % buyers]!.token, answer.id!);
      cancelled.add(answer.id!);
    }
  }
  async function worker(): Promise<void> {
    while (next < orderCount) {
      const i = next++;
      const buyer = users[i % buyers]!;
      const items = [{ sku: i % 2 === 0 ? 'FILTER-PAPER-100' : 'GIFT-CARD-25', quantity: 1 }];
      const key = randomUUID();
      const answer = await tryOrder(api, buyer.token, items, key);
      // An order without a final answer goes on being retried, with its key, beside the others.
      if (answer === undefined) retrying.push(placeOrderSurely(api, buyer.token, items, key).then((final) => settle(i, final)));
      else await settle(i, answer);
      answered += 1;
    }
  }
  mark('signed up');
  await Promise.all(Array.from({ length: concurrency }, worker));
  await Promise.all(retrying);
  mark('ordered');
  await crashing;
  assert.equal(placed.size, orderCount);
  assert.equal(shop.stack.status('orders').restarts, 3, 'orders was killed three times');
  assert.equal(shop.stack.status('notifications').restarts, 2, 'notifications was killed twice');
  await shop.stack.waitReady('orders');
  await shop.stack.waitReady('notifications');

  const tokens = users.map((u) => u.token);
  const expected = orderCount + cancelled.size + buyers;
  const all = await waitForNotifications(api, tokens, (lists) => lists.reduce((sum, list) => sum + list.length, 0) >= expected);
  mark('notified');
  // Give a late duplicate the chance to show itself before counting.
  await sleep(1_000);
  const settled = await waitForNotifications(api, tokens, () => true);
  assert.equal(settled.reduce((sum, list) => sum + list.length, 0), all.reduce((sum, list) => sum + list.length, 0), 'nothing more arrived');
  assertExactlyOnce(settled, placed, cancelled);
  assert.equal(settled.reduce((sum, list) => sum + list.length, 0), expected, 'one welcome per buyer, one confirmation per order, one notice per cancellation');
  const files = await readdir(join(shop.stack.varDir, 'mail'));
  assert.equal(files.filter((f) => f.endsWith('.eml')).length, expected, 'one .eml file per notification');
  const ids = settled.flat().map((n) => (n as { id: string }).id).toSorted();
  assert.deepEqual(files.filter((f) => f.endsWith('.eml')).map((f) => f.slice(0, -'.eml'.length)).toSorted(), ids, 'each stored mail is named by its notification\'s id');
}

