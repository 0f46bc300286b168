import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { addCleanup, type CleanupScope, type TestBroker } from '@baton/kit/testing';
import type { ServiceName } from '@baton/runner';
import type { createShopClient } from './shop-client.ts';
import { startShop, type ShopStack } from './shop-stack.ts';

/** A scope whose cleanups run last registered first: the stack stops before its databases are dropped. */
export function lastInFirstOut(t: CleanupScope): CleanupScope {
  return { after: (fn) => addCleanup(t, fn) };
}

export type Transport = 'feed' | 'nats' | 'rabbitmq';

export type Notification = { id: string; type: string; recipient: string; subject: string; orderId: string | null; createdAt: string };

/**
 * The shop with its events on the given transport (each test run in its own namespace on the
 * broker), retry delays short enough for a test, and the gateway's per-address limit raised: every request of these tests comes from one address.
 */
export async function startEventShop(scope: CleanupScope, { transport, broker, env = {}, serviceEnv = {} }: {
  transport: Transport;
  broker?: TestBroker | undefined;
  env?: NodeJS.ProcessEnv;
  serviceEnv?: Partial<Record<ServiceName, NodeJS.ProcessEnv>>;
}): Promise<ShopStack> {
  const messaging: NodeJS.ProcessEnv = {
    ...(transport === 'nats' && broker ? { NATS_URL: broker.url, MESSAGING_NAMESPACE: broker.namespace } : {}),
    ...(transport === 'rabbitmq' && broker ? { AMQP_URL: broker.url, MESSAGING_NAMESPACE: broker.namespace } : {}),
    MESSAGING_RETRY_BASE_MS: '200',
    MESSAGING_RETRY_MAX_MS: '1000',
    MESSAGING_POLL_INTERVAL_MS: '100',
    // What a killed consumer held comes back after this (30 s by default).
    MESSAGING_ACK_WAIT_MS: '3000',
    ...env,
  };
  const names: ServiceName[] = ['gateway', 'users', 'inventory', 'orders', 'notifications'];
  return startShop(scope, Object.fromEntries(names.map((name) => [name, {
    ...messaging,
    ...(name === 'gateway' ? { RATE_LIMIT_PER_ADDRESS_PER_MINUTE: '100000', RATE_LIMIT_PER_USER_PER_MINUTE: '100000', REGISTRATIONS_PER_ADDRESS_PER_HOUR: '100000' } : {}),
    ...serviceEnv[name],
  }])));
}

/** One try at an order: its answer when final (201, 4xx), else `undefined` (a 5xx, a dropped connection). */
export async function tryOrder(api: ReturnType<typeof createShopClient>, token: string, items: Array<{ sku: string; quantity: number }>, key: ReturnType<typeof randomUUID>, paymentMethod?: string): Promise<{ status: number; id?: string } | undefined> {
  try {
    const answer = await api.order(token, items, key, paymentMethod);
    if (answer.status === 201) return { status: 201, id: answer.body.id };
    if (answer.status < 500 && answer.status !== 429) return { status: answer.status };
  } catch {
    // The connection broke: the gateway itself was busy or restarting.
  }
  return undefined;
}

/**
 * Places an order as a careful client does: one Idempotency-Key for the order, sent again after
 * any answer that is not final until it gets one. So every order that was stored ends up with
 * its 201, even one whose first answer was lost in a crash. (A key whose request died with the
 * orders process is taken over once it is stale, IDEMPOTENCY_STALE_AFTER_MS later.)
 */
export async function placeOrderSurely(api: ReturnType<typeof createShopClient>, token: string, items: Array<{ sku: string; quantity: number }>, key = randomUUID(), paymentMethod?: string): Promise<{ status: number; id?: string }> {
  for (let attempt = 1; attempt <= 300; attempt++) {
    const answer = await tryOrder(api, token, items, key, paymentMethod);
    if (answer !== undefined) return answer;
    await sleep(Math.min(500, 50 * attempt));
  }
  throw new Error('no final answer to an order after 300 attempts');
}

export async function cancelSurely(api: ReturnType<typeof createShopClient>, token: string, orderId: string): Promise<void> {
  for (let attempt = 1; attempt <= 200; attempt++) {
    try {
      const answer = await api.call('POST', `/api/v1/orders/${orderId}/cancel`, { token });
      if (answer.status === 200) return;
      if (answer.status < 500) throw new Error(`cancel answered ${answer.status}`);
    } catch (error) {
      if (error instanceof Error && error.message.startsWith('cancel answered')) throw error;
    }
    await sleep(Math.min(1_000, 50 * attempt));
  }
  throw new Error('could not cancel after 200 attempts');
}

/** Every notification of the signed-in user, newest first, through the gateway. */
export async function notificationsOf(api: ReturnType<typeof createShopClient>, token: string): Promise<Notification[]> {
  const all: Notification[] = [];
  let cursor: string | null = null;
  do {
    const page: { status: number; body: { items: Notification[]; nextCursor: string | null } } = await api.call('GET', `/api/v1/notifications?limit=100${cursor ? `&cursor=${cursor}` : ''}`, { token });
    if (page.status !== 200) throw new Error(`notifications answered ${page.status}: ${JSON.stringify(page.body).slice(0, 300)}`);
    all.push(...page.body.items);
    cursor = page.body.nextCursor;
  } while (cursor !== null);
  return all;
}

/**
 * Waits until every user's notifications satisfy `done` (polling the public API), and returns
 * them. A bound on waiting, not a timed assertion: it fails only if they never arrive.
 */
export async function waitForNotifications(api: ReturnType<typeof createShopClient>, tokens: string[], done: (all: Notification[][]) => boolean, { bound = 240 } = {}): Promise<Notification[][]> {
  let last: Notification[][] | undefined;
  let lastError: unknown;
  for (let i = 0; i < bound; i++) {
    try {
      last = await readAll(api, tokens);
      if (done(last)) return last;
    } catch (error) {
      // A service is restarting: look again.
      lastError = error;
    }
    await sleep(500);
  }
  // Never read at all: say why, rather than return nothing as if nothing had arrived.
  if (last === undefined) throw new Error(`the notifications could not be read: ${String(lastError)}`, { cause: lastError });
  return last;
}

// A few users at a time, as a handful of browsers would: twenty at once, every half second from
// one address, is a burst the gateway's load shedding may rightly refuse in part.
async function readAll(api: ReturnType<typeof createShopClient>, tokens: string[]): Promise<Notification[][]> {
  const lists: Notification[][] = [];
  for (let i = 0; i < tokens.length; i += 4) lists.push(...await Promise.all(tokens.slice(i, i + 4).map((token) => notificationsOf(api, token))));
  return lists;
}

/** The checks of the crash scenario: one confirmation per 201 order, none for others, cancellations after their confirmations. */
export function assertExactlyOnce(all: Notification[][], placed: Map<string, number>, cancelled: Set<string>): void {
  const created = new Map<string, number>();
  for (const list of all) {
    for (const n of list) if (n.type === 'order.created' && n.orderId) created.set(n.orderId, (created.get(n.orderId) ?? 0) + 1);
  }
  const missing = [...placed.keys()].filter((id) => !created.has(id));
  const duplicated = [...created].filter(([, count]) => count > 1).map(([id]) => id);
  const extra = [...created.keys()].filter((id) => !placed.has(id));
  assert.deepEqual({ missing: missing.length, duplicated: duplicated.length, extra: extra.length }, { missing: 0, duplicated: 0, extra: 0 },
    `missing ${missing.slice(0, 3).join(',')} duplicated ${duplicated.slice(0, 3).join(',')} extra ${extra.slice(0, 3).join(',')}`);

  for (const list of all) {
    for (const orderId of cancelled) {
      const positions = list.flatMap((n, index) => (n.orderId === orderId ? [{ type: n.type, index }] : []));
      if (positions.length === 0) continue;
      const cancellations = positions.filter((p) => p.type === 'order.cancelled');
      const confirmation = positions.find((p) => p.type === 'order.created');
      assert.equal(cancellations.length, 1, `order ${orderId} has one cancellation notice`);
      // Newest first: the cancellation was applied after the confirmation.
      assert.ok(confirmation !== undefined && cancellations[0]!.index < confirmation.index, `order ${orderId}: cancelled was applied after created`);
    }
  }
}
