import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { publicErrors } from '@baton/contracts/http';
import { createSuiteScope, hasProcFs, nicenessOf, testIdentity } from '@baton/kit/testing';
import { createShopClient } from './shop-client.ts';
import { rpcCount, startShop, type ShopStack } from './shop-stack.ts';

interface PlacedOrder {
  id: string;
  status: string;
  items: Array<{ sku: string; quantity: number; priceCents: number }>;
  totalCents: number;
  currency: string;
  createdAt: string;
  updatedAt: string;
  cancelledAt: string | null;
}

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

// The shop end to end: five real processes, every request through the gateway, and orders
// calling users and inventory over gRPC (its default).
describe('the shop, through the gateway', () => {
  const suite = createSuiteScope();
  const staffEmail = `staff-${randomUUID()}@example.com`;
  let shop: ShopStack;
  let api: ReturnType<typeof createShopClient>;

  before(async () => {
    shop = await startShop(suite, {
      users: { STAFF_EMAILS: staffEmail },
      // Fifty shoppers at once from one address would meet the gateway's limits, which are not under test here.
      gateway: { RATE_LIMIT_PER_ADDRESS_PER_MINUTE: '100000', REGISTRATIONS_PER_ADDRESS_PER_HOUR: '100000' },
    });
    api = createShopClient(shop.gateway);
  });

  test('register, sign in, browse, order, read it back, cancel it: stock goes down and back up', async (t) => {
    if (shop.note) t.diagnostic(shop.note);
    const ada = await api.signUp('Ada');
    const me = await api.call<{ id: string; email: string }>('GET', '/api/v1/users/me', { token: ada.token });
    assert.equal(me.status, 200);
    assert.equal(me.body.email, ada.email);

    const page = await api.call<{ items: Array<{ sku: string; available: number }>; nextCursor: string | null }>('GET', '/api/v1/products?limit=5');
    assert.equal(page.status, 200);
    assert.equal(page.body.items.length, 5);
    assert.ok(page.body.nextCursor);

    const before = await api.available('COFFEE-1KG');
    const sentAt = Date.now();
    const placed = await api.order(ada.token, [{ sku: 'COFFEE-1KG', quantity: 2 }, { sku: 'MUG-STONEWARE', quantity: 1 }]);
    const answeredAt = Date.now();
    assert.equal(placed.status, 201, JSON.stringify(placed.body));
    // The whole answer, as the API promises it: nothing missing, nothing more.
    const order = placed.body as unknown as PlacedOrder;
    assert.deepEqual(Object.keys(order).sort(), ['cancelledAt', 'createdAt', 'currency', 'id', 'items', 'payment', 'status', 'totalCents', 'updatedAt']);
    assert.match(order.id, uuidPattern);
    assert.equal(order.status, 'confirmed');
    assert.deepEqual(order.items, [
      { sku: 'COFFEE-1KG', name: 'Single-origin coffee beans, 1 kg', quantity: 2, priceCents: 2490 },
      { sku: 'MUG-STONEWARE', name: 'Stoneware mug, 350 ml', quantity: 1, priceCents: 1450 },
    ]);
    assert.equal(order.totalCents, 2 * 2490 + 1450);
    assert.equal(order.currency, 'EUR');
    assert.equal(new Date(order.createdAt).toISOString(), order.createdAt, 'createdAt is an ISO 8601 UTC timestamp');
    assert.ok(Date.parse(order.createdAt) >= sentAt - 1_000 && Date.parse(order.createdAt) <= answeredAt + 1_000, `created while the request ran: ${order.createdAt}`);
    assert.equal(order.updatedAt, order.createdAt, 'a new order last changed when it was placed');
    assert.equal(order.cancelledAt, null);
    assert.equal(await api.available('COFFEE-1KG'), before - 2);
    // Orders talked to users and inventory over HTTP, its default: their gRPC servers saw no call
    // (upstream-kill.test.ts and observability.test.ts run checkout over gRPC).
    assert.equal(await rpcCount(shop, 'inventory', 'baton.inventory.v1.InventoryService', 'CreateReservation'), 0);
    assert.equal(await rpcCount(shop, 'users', 'baton.users.v1.UsersService', 'GetUser'), 0);

    const read = await api.call<PlacedOrder>('GET', `/api/v1/orders/${placed.body.id}`, { token: ada.token });
    assert.equal(read.status, 200);
    assert.deepEqual(read.body, order, 'read back, the order is what the checkout answered');
    const mine = await api.call<{ items: Array<{ id: string }> }>('GET', '/api/v1/orders', { token: ada.token });
    assert.deepEqual(mine.body.items.map((o) => o.id), [placed.body.id]);

    const cancelled = await api.call<PlacedOrder>('POST', `/api/v1/orders/${placed.body.id}/cancel`, { token: ada.token });
    assert.equal(cancelled.status, 200);
    assert.equal(cancelled.body.status, 'cancelled');
    assert.ok(cancelled.body.cancelledAt !== null && Date.parse(cancelled.body.cancelledAt) >= Date.parse(order.createdAt), `dated: ${cancelled.body.cancelledAt}`);
    assert.equal(cancelled.body.updatedAt, cancelled.body.cancelledAt, 'the cancellation is its last change');
    assert.equal(cancelled.body.createdAt, order.createdAt);
    const again = await api.call<PlacedOrder>('POST', `/api/v1/orders/${placed.body.id}/cancel`, { token: ada.token });
    assert.deepEqual(again.body, cancelled.body, 'cancelling again changes nothing, its dates included');
    assert.deepEqual((await api.call<PlacedOrder>('GET', `/api/v1/orders/${placed.body.id}`, { token: ada.token })).body, cancelled.body, 'read back, as the cancel answered');
    assert.equal(await api.available('COFFEE-1KG'), before);

    // Two more orders, and Ada's list read two at a time: following nextCursor gives every
    // order once, newest first, and the last page says there is no next one.
    const more = [];
    for (const sku of ['TEA-EARLGREY-100G', 'MUG-TRAVEL']) {
      const another = await api.order(ada.token, [{ sku, quantity: 1 }]);
      assert.equal(another.status, 201, JSON.stringify(another.body));
      more.push(another.body as unknown as PlacedOrder);
    }
    const newestFirst = [order, ...more]
      .sort((a, b) => b.createdAt.localeCompare(a.createdAt) || b.id.localeCompare(a.id))
      .map((o) => o.id);
    type OrderPage = { items: PlacedOrder[]; nextCursor: string | null };
    const first = await api.call<OrderPage>('GET', '/api/v1/orders?limit=2', { token: ada.token });
    assert.equal(first.status, 200);
    assert.equal(first.body.items.length, 2);
    assert.equal(typeof first.body.nextCursor, 'string');
    const second = await api.call<OrderPage>('GET', `/api/v1/orders?limit=2&cursor=${encodeURIComponent(first.body.nextCursor ?? '')}`, { token: ada.token });
    assert.equal(second.status, 200);
    assert.equal(second.body.nextCursor, null);
    assert.deepEqual([...first.body.items, ...second.body.items].map((o) => o.id), newestFirst);
    assert.equal(second.body.items.find((o) => o.id === order.id)?.status, 'cancelled', 'a page shows each order as it is now');
  });

  test('the order email names each product, with its line total and the order\'s total', async () => {
    const grace = await api.signUp('Grace');
    const placed = await api.order(grace.token, [{ sku: 'COFFEE-1KG', quantity: 2 }, { sku: 'MUG-STONEWARE', quantity: 1 }]);
    assert.equal(placed.status, 201, JSON.stringify(placed.body));
    type Notification = { id: string; type: string; orderId: string | null; subject: string };
    let sent: Notification | undefined;
    for (const until = Date.now() + 15_000; sent === undefined && Date.now() < until; await sleep(100)) {
      const mine = await api.call<{ items: Notification[] }>('GET', '/api/v1/notifications', { token: grace.token });
      sent = mine.body.items.find((n) => n.type === 'order.created' && n.orderId === placed.body.id);
    }
    assert.ok(sent, 'the order\'s notification was recorded');
    // The stored message, as the notification's id names it: its text part, quoted-printable decoded.
    const eml = await readFile(join(shop.stack.varDir, 'mail', `${sent.id}.eml`), 'utf8');
    const text = Buffer.from(eml.split(/\r?\n\r?\n/).slice(1).join('\n\n').replace(/=\r?\n/g, '')
      .replace(/=([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16))), 'latin1').toString('utf8');
    assert.match(text, /2 × Single-origin coffee beans, 1 kg \(COFFEE-1KG\) at 24\.90 EUR = 49\.80 EUR/);
    assert.match(text, /1 × Stoneware mug, 350 ml \(MUG-STONEWARE\) at 14\.50 EUR = 14\.50 EUR/);
    assert.match(text, /Total: 64\.30 EUR/);
  });

  test('notifications runs at a lower priority than checkout (niceness 10, every thread of it); checkout\'s services at the default', (t) => {
    if (!hasProcFs) return t.skip('no /proc here to read a process\'s niceness from');
    const notifications = nicenessOf(shop.stack.status('notifications').pid ?? 0);
    assert.equal(notifications?.niceness, 10);
    assert.deepEqual(notifications?.threads.filter((n) => n !== 10), [], 'a thread of notifications at another niceness');
    for (const service of ['gateway', 'orders', 'users', 'inventory'] as const) assert.equal(nicenessOf(shop.stack.status(service).pid ?? 0)?.niceness, 0, service);
  });

  test('50 concurrent orders for the last 10 units: exactly 10 succeed, the rest get 409, stock ends at 0', async () => {
    const sku = 'TOTE-CANVAS'; // seeded with 10 units and used by no other test
    assert.equal(await api.available(sku), 10);
    const buyers = await Promise.all(Array.from({ length: 5 }, (_, i) => api.signUp(`Buyer${i}`)));
    const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => api.order(buyers[i % 5]!.token, [{ sku, quantity: 1 }])));
    const statuses = answers.map((a) => a.status);
    assert.equal(statuses.filter((s) => s === 201).length, 10, `statuses: ${statuses.join(',')}`);
    assert.equal(statuses.filter((s) => s === 409).length, 40, `statuses: ${statuses.join(',')}`);
    const conflict = answers.find((a) => a.status === 409)!;
    assert.match(conflict.contentType, /application\/problem\+json/);
    assert.deepEqual(conflict.body.unavailable?.map((u) => u.sku), [sku]);
    assert.equal(await api.available(sku), 0);
  });

  test('the same Idempotency-Key sent 20 times at once creates exactly one order; another body gets 422', async () => {
    const buyer = await api.signUp('Grace');
    const key = randomUUID();
    const items = [{ sku: 'TEA-GREEN-100G', quantity: 1 }];
    const before = await api.available('TEA-GREEN-100G');
    const answers = await Promise.all(Array.from({ length: 20 }, () => api.order(buyer.token, items, key)));
    assert.deepEqual([...new Set(answers.map((a) => a.status))], [201]);
    assert.equal(new Set(answers.map((a) => a.body.id)).size, 1);
    // The request that did the work says nothing; every other got its stored answer, and is told so.
    assert.deepEqual(answers.map((a) => a.headers.get('idempotent-replayed') ?? 'absent').sort(), ['absent', ...Array<string>(19).fill('true')]);
    const mine = await api.call<{ items: unknown[] }>('GET', '/api/v1/orders', { token: buyer.token });
    assert.equal(mine.body.items.length, 1);
    assert.equal(await api.available('TEA-GREEN-100G'), before - 1);
    const other = await api.order(buyer.token, [{ sku: 'TEA-GREEN-100G', quantity: 2 }], key);
    assert.equal(other.status, 422);
  });

  test('nobody reads or cancels another user\'s order; bad, forged and unsigned tokens get 401', async () => {
    const owner = await api.signUp('Owner');
    const stranger = await api.signUp('Stranger');
    const placed = await api.order(owner.token, [{ sku: 'COFFEE-250G', quantity: 1 }]);
    assert.equal(placed.status, 201);
    assert.equal((await api.call('GET', `/api/v1/orders/${placed.body.id}`, { token: stranger.token })).status, 404);
    assert.equal((await api.call('POST', `/api/v1/orders/${placed.body.id}/cancel`, { token: stranger.token })).status, 404);
    assert.equal((await api.call<{ status: string }>('GET', `/api/v1/orders/${placed.body.id}`, { token: owner.token })).body.status, 'confirmed');

    const [header, payload, signature] = owner.token.split('.') as [string, string, string];
    const tampered = `${header}.${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), sub: stranger.userId })).toString('base64url')}.${signature}`;
    const unsigned = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'at+jwt' })).toString('base64url')}.${payload}.`;
    for (const token of [tampered, unsigned, 'not-a-jwt', `${header}.${payload}.${signature.slice(0, -4)}AAAA`]) {
      const answer = await api.call('GET', '/api/v1/orders', { token });
      assert.equal(answer.status, 401, `token ${token.slice(0, 20)}…`);
      assert.match(answer.contentType, /application\/problem\+json/);
      assert.equal(answer.headers.get('www-authenticate'), 'Bearer realm="baton", error="invalid_token"', 'a token sent and refused');
    }
    const none = await api.call('GET', '/api/v1/orders');
    assert.equal(none.status, 401);
    assert.equal(none.headers.get('www-authenticate'), 'Bearer realm="baton"', 'no token sent: the challenge without an error');
  });

  test('malformed JSON, wrong types, unknown fields, huge numbers and 2 MB bodies get 4xx problems, never 5xx', async () => {
    const buyer = await api.signUp('Eve');
    const headers = { 'idempotency-key': randomUUID() };
    const cases: Array<{ raw?: string; body?: unknown; field?: string }> = [
      { raw: '{"items": [' },
      { body: { items: [{ sku: 'COFFEE-1KG', quantity: 'two' }] }, field: 'body.items.0.quantity' },
      { body: { items: [{ sku: 'COFFEE-1KG', quantity: 1 }], coupon: 'FREE' }, field: 'body.coupon' },
      { body: { items: [{ sku: 'COFFEE-1KG', quantity: 1e308 }] }, field: 'body.items.0.quantity' },
      { body: { items: [{ sku: 'COFFEE-1KG', quantity: 1, note: 'x'.repeat(2 * 1024 * 1024) }] } },
      { body: { items: [] }, field: 'body.items' },
      { body: [1, 2, 3] },
    ];
    for (const c of cases) {
      const answer = await api.call<{ errors?: Array<{ field: string }> }>('POST', '/api/v1/orders', { token: buyer.token, headers, ...(c.raw ? { raw: c.raw } : { body: c.body }) });
      assert.ok(answer.status >= 400 && answer.status < 500, `${JSON.stringify(c).slice(0, 80)} answered ${answer.status}`);
      assert.match(answer.contentType, /application\/problem\+json/);
      if (c.field) assert.ok(answer.body.errors?.some((e) => e.field === c.field), `expected a problem naming ${c.field}: ${JSON.stringify(answer.body)}`);
    }
    const huge = await api.call('POST', '/api/v1/users', { raw: JSON.stringify({ email: 'a@example.com', password: 'x'.repeat(2 * 1024 * 1024), name: 'A' }) });
    assert.equal(huge.status, 413);
    assert.equal((await api.call('POST', '/api/v1/orders', { token: buyer.token, body: { items: [{ sku: 'COFFEE-1KG', quantity: 1 }] } })).status, 400, 'no Idempotency-Key');
    const mine = await api.call<{ items: unknown[] }>('GET', '/api/v1/orders', { token: buyer.token });
    assert.equal(mine.body.items.length, 0, 'no bad request created an order');
  });

  test('inventory stopped: checkout answers 503 within its deadline; started again, checkout works with nothing restarted', async () => {
    const buyer = await api.signUp('Linus');
    const gatewayPid = shop.stack.status('gateway').pid;
    const ordersPid = shop.stack.status('orders').pid;
    await shop.stack.stop('inventory');
    const startedAt = performance.now();
    const down = await api.order(buyer.token, [{ sku: 'COFFEE-250G', quantity: 1 }]);
    const tookMs = performance.now() - startedAt;
    assert.equal(down.status, 503, JSON.stringify(down.body));
    assert.ok(down.headers.get('retry-after'), 'a 503 says when to try again');
    assert.ok(tookMs < 8_000 + 1_000, `answered within the checkout deadline (took ${Math.round(tookMs)} ms)`);

    await shop.stack.start('inventory');
    let status = 0;
    for (let attempt = 0; attempt < 40 && status !== 201; attempt++) {
      status = (await api.order(buyer.token, [{ sku: 'COFFEE-250G', quantity: 1 }])).status;
      if (status !== 201) await new Promise((resolve) => setTimeout(resolve, 500));
    }
    assert.equal(status, 201);
    assert.equal(shop.stack.status('gateway').pid, gatewayPid, 'the gateway was not restarted');
    assert.equal(shop.stack.status('orders').pid, ordersPid, 'orders was not restarted');
  });

  test('the services\' internal routes are not reachable through the gateway: 404 problems from the gateway itself', async () => {
    const buyer = await api.signUp('Mallory');
    // Each with the service token of the service that really calls it (the key set is public).
    const internal: Array<{ service: 'users' | 'inventory' | 'orders' | 'notifications'; path: string; caller?: string }> = [
      { service: 'users', path: '/events/v1/feed', caller: 'notifications' },
      { service: 'orders', path: '/events/v1/feed', caller: 'notifications' },
      { service: 'users', path: `/v1/users/${buyer.userId}`, caller: 'orders' },
      { service: 'users', path: '/v1/users/me', caller: 'gateway' },
      { service: 'users', path: '/.well-known/jwks.json' },
      { service: 'inventory', path: '/v1/products/COFFEE-1KG', caller: 'gateway' },
      { service: 'orders', path: '/v1/orders', caller: 'gateway' },
      { service: 'notifications', path: '/v1/notifications', caller: 'gateway' },
    ];
    for (const { service, path, caller } of internal) {
      // The route is real on the service that owns it...
      const credential = caller === undefined ? {} : await testIdentity.headers(caller, service);
      const direct = await fetch(new URL(path, shop.stack.url(service)), { headers: { authorization: `Bearer ${buyer.token}`, ...credential } });
      await direct.body?.cancel();
      assert.equal(direct.status, 200, `${service} serves ${path}`);
      // ...and the gateway does not route it, whoever asks.
      const through = await api.call<{ code: string; detail: string }>('GET', path, { token: buyer.token });
      assert.equal(through.status, 404, `${path} through the gateway`);
      assert.match(through.contentType, /application\/problem\+json/);
      assert.equal(through.body.code, 'not_found');
      assert.equal(through.body.detail, `no route for GET ${path}`, 'the gateway answered, not a service behind it');
    }
    // A product's SKU cannot climb out of its route either: it is validated, then encoded.
    const climbing = await api.call('GET', '/api/v1/products/..%2F..%2Fevents%2Fv1%2Ffeed');
    assert.ok(climbing.status >= 400 && climbing.status < 500, `answered ${climbing.status}`);
    assert.match(climbing.contentType, /application\/problem\+json/);
  });

  test('errors in the shop\'s words: each public code with its sentence, the line or field it is about, and no internal word', async () => {
    type PublicProblem = { type: string; title: string; status: number; detail: string; code: string; errors?: Array<{ field: string; message: string }>; unknown?: string[]; unavailable?: Array<{ sku: string }>; [member: string]: unknown };
    const buyer = await api.signUp('Wordy');
    const seen: Array<{ status: number; body: PublicProblem; contentType: string }> = [];
    const expect = async (answer: Promise<{ status: number; body: PublicProblem; contentType: string; headers: Headers }>, status: number, code: string) => {
      const got = await answer;
      assert.equal(got.status, status, JSON.stringify(got.body));
      assert.equal(got.body.code, code, JSON.stringify(got.body));
      assert.equal(got.body.title, publicErrors[code as keyof typeof publicErrors].title, 'the code\'s own sentence');
      assert.equal(got.body.type, `urn:baton:problem:${code}`);
      seen.push(got);
      return got;
    };
    const order = (items: unknown, key: string | null = randomUUID()) => api.call<PublicProblem>('POST', '/api/v1/orders', {
      token: buyer.token, body: { items }, headers: key === null ? {} : { 'idempotency-key': key },
    });

    const unknownLine = await expect(order([{ sku: 'COFFEE-250G', quantity: 1 }, { sku: 'NO-SUCH-MUG', quantity: 1 }]), 404, 'unknown_product');
    assert.deepEqual(unknownLine.body.errors?.map((e) => e.field), ['body.items[1].sku'], 'the line that names it');
    assert.deepEqual(unknownLine.body.unknown, ['NO-SUCH-MUG']);
    const short = await expect(order([{ sku: 'TEA-CHAMOMILE-50G', quantity: 1000 }]), 409, 'out_of_stock');
    assert.deepEqual(short.body.unavailable?.map((line) => line.sku), ['TEA-CHAMOMILE-50G']);
    const noKey = await expect(order([{ sku: 'COFFEE-250G', quantity: 1 }], null), 400, 'invalid_request');
    assert.deepEqual(noKey.body.errors?.map((e) => e.field), ['headers.idempotency-key']);
    assert.match(noKey.body.errors?.[0]?.message ?? '', /^required: a key you choose for this order/);
    const key = randomUUID();
    assert.equal((await order([{ sku: 'COFFEE-250G', quantity: 1 }], key)).status, 201);
    await expect(order([{ sku: 'COFFEE-250G', quantity: 2 }], key), 422, 'idempotency_key_reused');
    const taken = await expect(api.call<PublicProblem>('POST', '/api/v1/users', { body: { email: buyer.email, password: 'correct horse battery staple', name: 'Again' } }), 409, 'email_taken');
    assert.deepEqual(taken.body.errors?.map((e) => e.field), ['body.email']);
    await expect(api.call<PublicProblem>('POST', '/api/v1/users', { headers: { 'content-type': 'text/plain' }, raw: 'hello' }), 415, 'unsupported_media_type');
    const noToken = await expect(api.call<PublicProblem>('GET', '/api/v1/orders'), 401, 'sign_in_required');
    assert.match(noToken.headers.get('www-authenticate') ?? '', /^Bearer/);
    await expect(api.call<PublicProblem>('POST', '/api/v1/auth/login', { body: { email: buyer.email, password: 'not the password' } }), 401, 'wrong_credentials');
    await expect(api.call<PublicProblem>('GET', `/api/v1/orders/${randomUUID()}`, { token: buyer.token }), 404, 'not_found');
    await expect(api.call<PublicProblem>('POST', '/api/v1/auth/refresh', { body: { refreshToken: 'made-up' } }), 401, 'invalid_refresh_token');

    const internalWords = ['aborted', 'failed_precondition', 'invalid_argument', 'already_exists', 'unauthenticated', 'permission_denied', 'unknown_sku'];
    for (const { body } of seen) {
      assert.equal(body.reason, undefined, 'the internal reason stays inside');
      assert.ok(!internalWords.some((word) => JSON.stringify(body).includes(`"${word}"`)), JSON.stringify(body));
    }
  });

  test('the API documents itself: OpenAPI 3.1 with every public route, and a browsable page', async () => {
    const doc = await api.call<{ openapi: string; paths: Record<string, unknown> }>('GET', '/api/v1/docs/json');
    assert.equal(doc.status, 200);
    assert.equal(doc.body.openapi, '3.1.0');
    for (const path of ['/api/v1/users', '/api/v1/auth/login', '/api/v1/users/me', '/api/v1/products', '/api/v1/products/{sku}', '/api/v1/orders', '/api/v1/orders/{id}', '/api/v1/orders/{id}/cancel', '/api/v1/notifications']) {
      assert.ok(path in doc.body.paths, `${path} is documented`);
    }
    const page = await fetch(new URL('/api/v1/docs', shop.gateway));
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<html/i);
  });

  // Staff run the catalogue through the public API: products added and changed, stock moved in
  // and out with a reason, every action audited. Shoppers may do none of it, at the gateway or
  // behind it: users issues the staff role, inventory checks it itself.
  describe('staff run the catalogue', () => {
    let registered: { status: number; body: { id: string; roles: string[] } };
    let staff: string;
    let shopper: { token: string };
    const sku = `RACE-${randomUUID().slice(0, 8).toUpperCase()}`;
    before(async () => {
      registered = await api.call('POST', '/api/v1/users', { body: { email: staffEmail, password: 'correct horse battery staple', name: 'Stella' } });
      assert.equal(registered.status, 201, JSON.stringify(registered.body));
      assert.deepEqual(registered.body.roles, ['staff'], 'an email of STAFF_EMAILS signs up as staff');
      staff = (await api.call<{ accessToken: string }>('POST', '/api/v1/auth/login', { body: { email: staffEmail, password: 'correct horse battery staple' } })).body.accessToken;
      shopper = await api.signUp('Sam');
    });

    test('a shopper, or nobody, may not add, change or restock a product: 403 and 401, at the gateway and behind it', async () => {
      const stockBefore = await api.available('COFFEE-1KG');
      const attempts = [
        { method: 'POST', path: '/api/v1/products', body: { sku, name: 'Not mine', category: 'coffee', priceCents: 100 } },
        { method: 'PATCH', path: '/api/v1/products/COFFEE-1KG', body: { priceCents: 1 } },
        { method: 'POST', path: '/api/v1/products/COFFEE-1KG/stock', body: { delta: 1000, reason: 'restock' } },
        { method: 'GET', path: '/api/v1/products/COFFEE-1KG/stock' },
      ] as const;
      for (const { method, path, ...rest } of attempts) {
        const body = 'body' in rest ? rest.body : undefined;
        const asShopper = await api.call<{ code: string }>(method, path, { token: shopper.token, body });
        assert.equal(asShopper.status, 403, `${method} ${path}: ${JSON.stringify(asShopper.body)}`);
        assert.match(asShopper.contentType, /^application\/problem\+json/);
        assert.equal(asShopper.body.code, 'staff_only');
        const anonymous = await api.call(method, path, { body });
        assert.equal(anonymous.status, 401, `${method} ${path}`);
        assert.match(anonymous.headers.get('www-authenticate') ?? '', /^Bearer/);
        // Behind the gateway, with the gateway's own credential: inventory checks the role itself.
        const behind = await fetch(new URL(path.replace('/api/v1', '/v1'), shop.stack.url('inventory')), {
          method,
          headers: { ...await testIdentity.headers('gateway', 'inventory'), authorization: `Bearer ${shopper.token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
          ...(body ? { body: JSON.stringify(body) } : {}),
        });
        assert.equal(behind.status, 403, `inventory itself: ${method} ${path}: ${await behind.text()}`);
      }
      assert.equal(await api.available('COFFEE-1KG'), stockBefore, 'nothing was moved');
      assert.equal((await api.call<{ priceCents: number }>('GET', '/api/v1/products/COFFEE-1KG')).body.priceCents, 2490, 'nothing was changed');
    });

    test('staff add a product (409 for a SKU taken), change its price, and find it by search', async () => {
      const created = await api.call<{ sku: string; available: number; category: string }>('POST', '/api/v1/products', {
        token: staff, body: { sku, name: 'Racing-green enamel mug', description: 'A mug for the race.', category: 'cups', priceCents: 1299 },
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      assert.equal(created.body.available, 0, 'no stock until it is moved in');
      const again = await api.call<{ errors: Array<{ field: string }>; code: string }>('POST', '/api/v1/products', {
        token: staff, body: { sku, name: 'Another', category: 'cups', priceCents: 1 },
      });
      assert.equal(again.status, 409);
      assert.deepEqual(again.body.errors.map((e) => e.field), ['body.sku']);
      const bad = await api.call<{ errors: Array<{ field: string }> }>('PATCH', `/api/v1/products/${sku}`, { token: staff, body: {} });
      assert.equal(bad.status, 400, 'a change of nothing');
      const changed = await api.call<{ priceCents: number; name: string }>('PATCH', `/api/v1/products/${sku}`, { token: staff, body: { priceCents: 1499 } });
      assert.equal(changed.status, 200, JSON.stringify(changed.body));
      assert.equal(changed.body.priceCents, 1499);
      assert.equal(changed.body.name, 'Racing-green enamel mug', 'the other fields stay');
      const found = await api.call<{ items: Array<{ sku: string }> }>('GET', '/api/v1/products?q=racing%20enamel');
      assert.deepEqual(found.body.items.map((p) => p.sku), [sku]);
      // A SKU the shop does not have: 404 from each staff route that names one.
      for (const [method, path, body] of [
        ['PATCH', '/api/v1/products/NO-SUCH-SKU', { priceCents: 1 }],
        ['POST', '/api/v1/products/NO-SUCH-SKU/stock', { delta: 1, reason: 'restock' }],
        ['GET', '/api/v1/products/NO-SUCH-SKU/stock', undefined],
      ] as const) {
        const unknown = await api.call<{ code: string }>(method, path, { token: staff, ...(body ? { body } : {}) });
        assert.deepEqual([unknown.status, unknown.body.code], [404, 'not_found'], `${method} ${path}`);
      }
    });

    test('a restock racing 50 concurrent checkouts: every unit is accounted for', async (t) => {
      const moveIn = await api.call<{ stockAfter: number }>('POST', `/api/v1/products/${sku}/stock`, { token: staff, body: { delta: 30, reason: 'restock', note: 'first delivery' } });
      assert.equal(moveIn.status, 201, JSON.stringify(moveIn.body));
      assert.equal(moveIn.body.stockAfter, 30);
      const tooMuch = await api.call<{ code: string; errors: Array<{ field: string }> }>('POST', `/api/v1/products/${sku}/stock`, { token: staff, body: { delta: -31, reason: 'lost' } });
      assert.equal(tooMuch.status, 409, 'stock never goes below zero');
      assert.equal(tooMuch.body.code, 'insufficient_stock');

      const shoppers = await Promise.all(Array.from({ length: 5 }, (_, i) => api.signUp(`Racer${i}`)));
      let answered = 0;
      const checkouts = Array.from({ length: 50 }, (_, i) => api.order(shoppers[i % shoppers.length]!.token, [{ sku, quantity: 1 }]).finally(() => { answered += 1; }));
      // Each restock goes in while checkouts are still coming back: the fifth after 0, 4, 8... answers.
      const restocks = Array.from({ length: 10 }, async (_, i) => {
        while (answered < i * 4) await new Promise((resolve) => setTimeout(resolve, 5));
        return api.call<{ stockAfter: number }>('POST', `/api/v1/products/${sku}/stock`, { token: staff, body: { delta: 2, reason: 'restock' } });
      });
      const [orders, moves] = await Promise.all([Promise.all(checkouts), Promise.all(restocks)]);
      assert.deepEqual(moves.map((m) => m.status), Array(10).fill(201), 'every restock is taken');
      t.diagnostic(`stock after each restock: ${moves.map((m) => m.body.stockAfter).join(', ')}`);
      const placed = orders.filter((o) => o.status === 201).length;
      const refused = orders.filter((o) => o.status === 409 && o.body.code !== undefined);
      assert.equal(placed + refused.length, 50, `each checkout is placed or refused as out of stock: ${JSON.stringify(orders.filter((o) => o.status !== 201 && o.status !== 409).map((o) => o.body))}`);
      assert.ok(placed >= 30, `at least the first 30 units sell: ${placed}`);
      assert.equal(await api.available(sku), 30 + 20 - placed, `30 moved in, 20 restocked, ${placed} sold: the stock is right to the unit`);

      const history = await api.call<{ items: Array<{ delta: number; reason: string; actor: string; stockAfter: number; note: string | null }>; nextCursor: string | null }>(
        'GET', `/api/v1/products/${sku}/stock?limit=5`, { token: staff });
      assert.equal(history.status, 200);
      assert.equal(history.body.items.length, 5);
      let all = [...history.body.items];
      for (let cursor = history.body.nextCursor; cursor !== null;) {
        const page: { status: number; body: typeof history.body } = await api.call('GET', `/api/v1/products/${sku}/stock?limit=5&cursor=${encodeURIComponent(cursor)}`, { token: staff });
        all = [...all, ...page.body.items];
        cursor = page.body.nextCursor;
      }
      assert.equal(all.length, 11, `one movement for each accepted move; the refused one left none: ${JSON.stringify(all)}`);
      assert.deepEqual(all.at(-1), { ...all.at(-1), delta: 30, reason: 'restock', note: 'first delivery', stockAfter: 30, actor: registered.body.id });
      assert.equal(all.reduce((sum, m) => sum + m.delta, 0), 50);
    });

    test('every staff action is in the audit log: who, what, when, and its request', async () => {
      const url = shop.stack.database.services.get('inventory')?.url ?? assert.fail('no inventory database');
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        const { rows } = await client.query<{ actor: string; action: string; sku: string; change: Record<string, unknown>; request_id: string | null; at: Date }>(
          'select actor, action, sku, change, request_id, at from staff_audit where sku = $1 order by id', [sku]);
        assert.deepEqual(rows.map((r) => r.action), ['product.created', 'product.updated', ...Array(11).fill('stock.moved')]);
        assert.ok(rows.every((r) => r.actor === registered.body.id && typeof r.request_id === 'string' && r.at instanceof Date));
        assert.deepEqual(rows[1]?.change, { was: { priceCents: 1299 }, now: { priceCents: 1499 } });
        // The shopper's attempts on COFFEE-1KG left no line: they were refused before any change.
        const { rows: [refused] } = await client.query<{ count: number }>("select count(*)::int as count from staff_audit where sku = 'COFFEE-1KG'");
        assert.equal(refused?.count, 0);
      } finally {
        await client.end();
      }
    });
  });
});
