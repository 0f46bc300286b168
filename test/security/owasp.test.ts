import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { startService } from '@baton/kit/service';
import { addCleanup, createSilentLogger, createSuiteScope, testIdentity } from '@baton/kit/testing';
import { readConfig } from '../../services/gateway/src/config.ts';
import { gatewayService } from '../../services/gateway/src/service.ts';
import { createShopClient, type Answer } from '../e2e/shop-client.ts';
import { startShop, type ShopStack } from '../e2e/shop-stack.ts';

// The OWASP API Security Top 10 (2023), tried against the running shop through its public
// gateway by an attacker holding two real shopper accounts: Alice, the victim, and Mallory. Only
// what the rest of the suite does not already show is here; docs/security.md maps every item to
// its tests. Each test is named with the item it answers.

type Problem = { code: string; reason?: string; title: string; detail: string; errors?: Array<{ field: string; message: string }> };
interface Shopper { token: string; userId: string; email: string }

const password = 'correct horse battery staple';
const sorted = (value: object) => Object.keys(value).sort();

function assertProblem(answer: Answer, status: number, what: string): void {
  assert.equal(answer.status, status, `${what}: ${JSON.stringify(answer.body).slice(0, 200)}`);
  assert.match(answer.contentType, /^application\/problem\+json/, `${what}: a problem document`);
}

function assertNamesField(answer: Answer<Problem>, status: number, field: string, what: string): void {
  assertProblem(answer, status, what);
  assert.ok(answer.body.errors?.some((e) => e.field === field), `${what}: names ${field}, got ${JSON.stringify(answer.body.errors)}`);
}

void describe('OWASP API Security Top 10 (2023), against the running shop', () => {
  const scope = createSuiteScope();
  let shop: ShopStack;
  let api: ReturnType<typeof createShopClient>;
  let alice: Shopper;
  let mallory: Shopper;
  let aliceOrderId: string;

  before(async () => {
    shop = await startShop(scope, { users: { PASSWORD_SCRYPT_LOG2_N: '14' } });
    api = createShopClient(shop.gateway);
    [alice, mallory] = await Promise.all([api.signUp('Alice'), api.signUp('Mallory')]);
    const placed = await api.order(alice.token, [{ sku: 'COFFEE-250G', quantity: 1 }]);
    assert.equal(placed.status, 201, JSON.stringify(placed.body));
    aliceOrderId = placed.body.id;
  });

  test('API1 object level: Mallory can neither read, list nor cancel Alice\'s order, and her guess looks exactly like a missing id', async () => {
    const path = `/api/v1/orders/${aliceOrderId}`;
    const missing = randomUUID();
    const read = await api.call<Problem>('GET', path, { token: mallory.token });
    const readMissing = await api.call<Problem>('GET', `/api/v1/orders/${missing}`, { token: mallory.token });
    const cancel = await api.call<Problem>('POST', `${path}/cancel`, { token: mallory.token });
    const cancelMissing = await api.call<Problem>('POST', `/api/v1/orders/${missing}/cancel`, { token: mallory.token });
    for (const [answer, twin, what] of [[read, readMissing, 'read'], [cancel, cancelMissing, 'cancel']] as const) {
      assertProblem(answer, 404, `${what} Alice's order`);
      // Same status, code, title and words (but for the id she sent): nothing tells her the order exists.
      assert.deepEqual(
        JSON.parse(JSON.stringify({ ...answer.body, request_id: undefined }).replaceAll(aliceOrderId, '<id>')),
        JSON.parse(JSON.stringify({ ...twin.body, request_id: undefined }).replaceAll(missing, '<id>')),
        `${what}: an existing order of another user answers as a missing one`,
      );
    }
    const malloryList = await api.call<{ items: Array<{ id: string }> }>('GET', '/api/v1/orders', { token: mallory.token });
    assert.equal(malloryList.status, 200);
    assert.deepEqual(malloryList.body.items, [], 'her list holds none of Alice\'s orders');
    const malloryMail = await api.call<{ items: Array<{ orderId: string | null; recipient: string }> }>('GET', '/api/v1/notifications', { token: mallory.token });
    assert.ok(malloryMail.body.items.every((n) => n.orderId !== aliceOrderId && n.recipient !== alice.email), 'nor her notifications');
    // A query parameter naming another user is refused, not obeyed.
    assertNamesField(await api.call<Problem>('GET', `/api/v1/orders?userId=${alice.userId}`, { token: mallory.token }), 400, 'query.userId', 'userId in the query');
    // Ids that are not ids never reach a database: 400 naming the parameter.
    assertNamesField(await api.call<Problem>('GET', '/api/v1/orders/1', { token: mallory.token }), 400, 'params.id', 'a counter as id');
    const own = await api.call<{ status: string }>('GET', path, { token: alice.token });
    assert.equal(own.body.status, 'confirmed', 'Alice\'s order is untouched and still hers');
  });

  test('API3 property level: sign-up and checkout with members the client may not set are refused naming them, and nothing is stored', async () => {
    for (const extra of [{ id: randomUUID() }, { role: 'admin' }, { isAdmin: true }, { passwordHash: 'x' }, { emailVerified: true }]) {
      const email = `mass-${randomUUID()}@example.com`;
      const field = `body.${Object.keys(extra)[0]}`;
      assertNamesField(await api.call<Problem>('POST', '/api/v1/users', { body: { email, password, name: 'Mass', ...extra } }), 400, field, `sign-up with ${field}`);
      assertProblem(await api.call('POST', '/api/v1/auth/login', { body: { email, password } }), 401, `no account was made for ${field}`);
    }
    const line = { sku: 'COFFEE-250G', quantity: 1 };
    const cases: Array<[unknown, string]> = [
      [{ items: [line], userId: alice.userId }, 'body.userId'],
      [{ items: [line], status: 'confirmed' }, 'body.status'],
      [{ items: [line], totalCents: 1 }, 'body.totalCents'],
      [{ items: [{ ...line, priceCents: 1 }] }, 'body.items.0.priceCents'],
      [{ items: [line], id: aliceOrderId }, 'body.id'],
    ];
    for (const [body, field] of cases) {
      const answer = await api.call<Problem>('POST', '/api/v1/orders', { token: mallory.token, body, headers: { 'idempotency-key': randomUUID() } });
      assertNamesField(answer, 400, field, `checkout with ${field}`);
    }
    assert.deepEqual((await api.call<{ items: unknown[] }>('GET', '/api/v1/orders', { token: mallory.token })).body.items, [], 'no order was stored');
    assert.equal((await api.call<{ status: string }>('GET', `/api/v1/orders/${aliceOrderId}`, { token: alice.token })).body.status, 'confirmed');
  });

  test('API3 property level: answers carry exactly their documented members: no password hash, no other user\'s data', async () => {
    const me = await api.call<Record<string, unknown>>('GET', '/api/v1/users/me', { token: alice.token });
    assert.equal(me.status, 200);
    assert.deepEqual(sorted(me.body), ['email', 'id', 'name', 'roles']);
    assert.deepEqual(me.body.roles, [], 'a shopper');
    assert.deepEqual({ id: me.body.id, email: me.body.email }, { id: alice.userId, email: alice.email });

    const email = `members-${randomUUID()}@example.com`;
    const created = await api.call<Record<string, unknown>>('POST', '/api/v1/users', { body: { email, password, name: 'Members' } });
    assert.equal(created.status, 201);
    assert.deepEqual(sorted(created.body), ['email', 'id', 'name', 'roles', 'session']);
    assert.deepEqual(sorted(created.body.session as Record<string, unknown>), ['accessToken', 'expiresIn', 'refreshExpiresIn', 'refreshToken', 'tokenType']);
    const login = await api.call<Record<string, unknown>>('POST', '/api/v1/auth/login', { body: { email, password } });
    assert.deepEqual(sorted(login.body), ['accessToken', 'expiresIn', 'refreshExpiresIn', 'refreshToken', 'tokenType']);
    const claims = JSON.parse(Buffer.from(String(login.body.accessToken).split('.')[1] ?? '', 'base64url').toString()) as Record<string, unknown>;
    // Anyone holding a token can read it: it carries registered claims only (ids and dates; `sid`
    // names its session, and staff's carry `roles`), no email, name or password.
    assert.deepEqual(Object.keys(claims).filter((claim) => !['iss', 'sub', 'aud', 'exp', 'nbf', 'iat', 'jti', 'sid'].includes(claim)), []);
    assert.ok(!JSON.stringify(claims).includes(email) && !JSON.stringify(claims).includes(password));

    const order = await api.call<Record<string, unknown> & { items: Array<Record<string, unknown>> }>('GET', `/api/v1/orders/${aliceOrderId}`, { token: alice.token });
    assert.deepEqual(sorted(order.body), ['cancelledAt', 'createdAt', 'currency', 'id', 'items', 'payment', 'status', 'totalCents', 'updatedAt']);
    for (const item of order.body.items) assert.deepEqual(sorted(item), ['name', 'priceCents', 'quantity', 'sku']);
    const list = await api.call<{ items: Array<Record<string, unknown>> }>('GET', '/api/v1/orders', { token: alice.token });
    assert.deepEqual(sorted(list.body), ['items', 'nextCursor']);
    for (const item of list.body.items) assert.deepEqual(sorted(item), ['cancelledAt', 'createdAt', 'currency', 'id', 'items', 'payment', 'status', 'totalCents', 'updatedAt']);
    const mail = await api.call<{ items: Array<Record<string, unknown>> }>('GET', '/api/v1/notifications', { token: alice.token });
    for (const item of mail.body.items) {
      assert.deepEqual(sorted(item), ['channel', 'createdAt', 'id', 'orderId', 'recipient', 'subject', 'type']);
      assert.equal(item.recipient, alice.email, 'only her own mail');
    }
    for (const answer of [me, created, login, order, list, mail]) {
      assert.doesNotMatch(JSON.stringify(answer.body), /scrypt|\$argon|password|hash|salt/i, 'no password or hash in any answer');
    }
  });

  test('API4 resource consumption: page sizes, batch sizes, quantities, body size and nesting are bounded, each refusal a 4xx problem', async () => {
    const token = mallory.token;
    for (const path of ['/api/v1/orders?limit=101', '/api/v1/notifications?limit=1000000', '/api/v1/products?limit=101']) {
      assertNamesField(await api.call<Problem>('GET', path, { token }), 400, 'query.limit', path);
    }
    assertNamesField(await api.call<Problem>('GET', `/api/v1/products?cursor=${'a'.repeat(513)}`), 400, 'query.cursor', 'a 513-character cursor');
    const checkout = (body: unknown) => api.call<Problem>('POST', '/api/v1/orders', { token, body, headers: { 'idempotency-key': randomUUID() } });
    const manyLines = Array.from({ length: 51 }, (_, i) => ({ sku: `SKU-${i}`, quantity: 1 }));
    assertNamesField(await checkout({ items: manyLines }), 400, 'body.items', '51 lines in one order');
    assertNamesField(await checkout({ items: [{ sku: 'COFFEE-250G', quantity: 1001 }] }), 400, 'body.items.0.quantity', 'a quantity of 1001');
    // The public API sets no reservation TTL: stock is held for the time inventory decides.
    assertNamesField(await checkout({ items: [{ sku: 'COFFEE-250G', quantity: 1 }], ttlSeconds: 86_400 }), 400, 'body.ttlSeconds', 'a client-chosen hold');

    const overLimit = await api.call('POST', '/api/v1/orders', { token, headers: { 'idempotency-key': randomUUID() }, raw: JSON.stringify({ items: [{ sku: 'COFFEE-250G', quantity: 1 }], pad: 'x'.repeat(64 * 1024) }) });
    assertProblem(overLimit, 413, 'a body over the gateway\'s 64 KiB');
    // Nested 30 000 deep, under the size limit: parsed without running out of stack, then refused.
    const depth = 30_000;
    const deep = await api.call('POST', '/api/v1/orders', { token, headers: { 'idempotency-key': randomUUID() }, raw: `{"items":${'['.repeat(depth)}${']'.repeat(depth)}}` });
    assertProblem(deep, 400, 'JSON nested 30 000 deep');
    const wide = await api.call('POST', '/api/v1/users', { raw: `{${Array.from({ length: 6_000 }, (_, i) => `"k${i}":0`).join(',')}}` });
    assertProblem(wide, 400, '6 000 members in one object');
    assert.deepEqual((await api.call<{ items: unknown[] }>('GET', '/api/v1/orders', { token })).body.items, [], 'none of it became an order');
  });

  test('API5 function level: internal routes are not reachable through the gateway, and a shopper\'s token alone opens none of them on the services', async () => {
    const tryThroughGateway: Array<[string, string]> = [
      ['POST', '/v1/reservations'], ['POST', '/api/v1/reservations'], ['GET', '/api/v1/reservations'],
      ['GET', '/v1/token-revocations'], ['GET', '/api/v1/token-revocations'],
      ['GET', `/api/v1/users/${alice.userId}`], ['GET', `/v1/users/${alice.userId}`],
      ['GET', '/api/v1/events/v1/feed'], ['GET', '/api/events/v1/feed'],
      ['DELETE', `/api/v1/orders/${aliceOrderId}`], ['PUT', `/api/v1/orders/${aliceOrderId}`], ['PATCH', '/api/v1/users/me'],
      ['DELETE', '/api/v1/users/me'], ['PUT', '/api/v1/products/COFFEE-250G'], ['DELETE', '/api/v1/products/COFFEE-250G'],
    ];
    for (const [method, path] of tryThroughGateway) {
      const answer = await api.call<Problem>(method, path, { token: mallory.token, ...(method === 'GET' || method === 'DELETE' ? {} : { body: {} }) });
      assertProblem(answer, 404, `${method} ${path} through the gateway`);
      assert.equal(answer.body.detail, `no route for ${method} ${path}`, 'the gateway itself answered');
    }
    // Straight at each service's port with her own access token and no service token: every
    // route there is for services (the gateway, orders, notifications), none for a shopper.
    const direct: Array<['users' | 'inventory' | 'orders' | 'notifications', string, string, unknown?]> = [
      ['orders', 'GET', '/v1/orders'],
      ['orders', 'POST', `/v1/orders/${aliceOrderId}/cancel`],
      ['users', 'GET', '/v1/users/me'],
      ['users', 'GET', `/v1/users/${alice.userId}`],
      ['users', 'GET', '/v1/token-revocations?since=0'],
      ['users', 'GET', '/events/v1/feed?after=0&limit=10'],
      ['inventory', 'POST', '/v1/reservations', { orderId: randomUUID(), items: [{ sku: 'COFFEE-250G', quantity: 1 }], ttlSeconds: 60 }],
      ['notifications', 'GET', '/v1/notifications'],
    ];
    for (const [service, method, path, body] of direct) {
      const answer = await createShopClient(shop.stack.url(service)).call<Problem>(method, path, { token: mallory.token, ...(body === undefined ? {} : { body }) });
      assertProblem(answer, 401, `${service} ${method} ${path} with a shopper's token only`);
      assert.equal(answer.body.code, 'unauthenticated');
    }
    // The staff routes are there, for staff: a shopper's token is refused 403 before its body is
    // even read, so a shopper learns nothing of what they take (tests/e2e/shop.test.ts: staff).
    for (const [method, path] of [['POST', '/api/v1/products'], ['PATCH', '/api/v1/products/COFFEE-250G'], ['POST', '/api/v1/products/COFFEE-250G/stock'], ['GET', '/api/v1/products/COFFEE-250G/stock']] as const) {
      const answer = await api.call<Problem>(method, path, { token: mallory.token, ...(method === 'GET' ? {} : { body: {} }) });
      assertProblem(answer, 403, `${method} ${path} with a shopper's token`);
      assert.equal(answer.body.code, 'staff_only');
    }
    assert.equal((await api.call<{ status: string }>('GET', `/api/v1/orders/${aliceOrderId}`, { token: alice.token })).body.status, 'confirmed');
  });

  test('API8 misconfiguration: every error is a bare problem document (no stack, path or framework banner), user data is not cached, and CORS is not opened to any origin', async () => {
    const token = mallory.token;
    const errors: Array<[string, Promise<Answer>]> = [
      ['no route', api.call('GET', '/api/v1/nothing-here')],
      ['bad JSON', api.call('POST', '/api/v1/users', { raw: '{"email": ' })],
      ['wrong content type', api.call('POST', '/api/v1/users', { headers: { 'content-type': 'text/xml' }, raw: '<user/>' })],
      ['bad field', api.call('POST', '/api/v1/users', { body: { email: 'not an email', password, name: 'X' } })],
      ['no token', api.call('GET', '/api/v1/orders')],
      ['bad token', api.call('GET', '/api/v1/orders', { token: 'eyJhbGciOiJub25lIn0.e30.' })],
      ['wrong password', api.call('POST', '/api/v1/auth/login', { body: { email: alice.email, password: 'not her password' } })],
      ['not hers', api.call('GET', `/api/v1/orders/${aliceOrderId}`, { token })],
      ['too large', api.call('POST', '/api/v1/users', { raw: JSON.stringify({ pad: 'x'.repeat(64 * 1024) }) })],
      ['prototype pollution', api.call('POST', '/api/v1/users', { raw: '{"__proto__": {"isAdmin": true}, "email": "p@example.com", "password": "correct horse battery staple", "name": "P"}' })],
      ['unknown product', api.call('GET', '/api/v1/products/NO-SUCH-SKU')],
    ];
    for (const [what, pending] of errors) {
      const answer = await pending;
      assert.ok(answer.status >= 400 && answer.status < 500, `${what}: answered ${answer.status}`);
      assert.match(answer.contentType, /^application\/problem\+json/, `${what}: a problem document`);
      assert.equal(answer.headers.get('x-powered-by'), null, `${what}: no x-powered-by`);
      assert.equal(answer.headers.get('server'), null, `${what}: no server banner`);
      const text = JSON.stringify(answer.body);
      assert.doesNotMatch(text, /\bat .+:\d+:\d+|node_modules|\/work\/|\/home\/|\.ts\b|\.js\b|stack|postgres|sql|undici|fastify/i, `${what}: nothing internal in ${text}`);
    }

    // A signed-in user's own data is kept by no cache; the public catalogue may be.
    for (const path of ['/api/v1/users/me', '/api/v1/orders', `/api/v1/orders/${aliceOrderId}`, '/api/v1/notifications']) {
      const answer = await api.call('GET', path, { token: alice.token });
      assert.equal(answer.status, 200, path);
      assert.equal(answer.headers.get('cache-control'), 'no-store', `${path}: Cache-Control`);
    }
    assert.equal((await api.call('GET', `/api/v1/orders/${aliceOrderId}`, { token })).headers.get('cache-control'), 'no-store', 'a refusal too');

    // CORS: the API is for the shop's own pages and scripts, so the gateway sends no CORS
    // headers at all; a browser on another origin can neither read answers nor send credentials.
    const evil = { origin: 'https://evil.example' };
    const simple = await fetch(new URL('/api/v1/users/me', shop.gateway), { headers: { ...evil, authorization: `Bearer ${token}` } });
    await simple.arrayBuffer();
    assert.equal(simple.status, 200, 'the request itself is served (CORS is the browser\'s check)');
    const preflight = await fetch(new URL('/api/v1/orders', shop.gateway), {
      method: 'OPTIONS', headers: { ...evil, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' },
    });
    await preflight.arrayBuffer();
    assert.equal(preflight.status, 404, 'no preflight route');
    assert.match(preflight.headers.get('content-type') ?? '', /^application\/problem\+json/);
    for (const answer of [simple, preflight]) {
      for (const header of ['access-control-allow-origin', 'access-control-allow-credentials', 'access-control-allow-methods', 'access-control-allow-headers']) {
        assert.equal(answer.headers.get(header), null, `no ${header}`);
      }
    }
  });

  test('API7 SSRF: no public operation takes a URL, host or callback a server would fetch', async () => {
    const doc = (await api.call<Record<string, unknown>>('GET', '/api/v1/docs/json')).body;
    const suspicious: string[] = [];
    const walk = (node: unknown, at: string): void => {
      if (Array.isArray(node)) { node.forEach((child, i) => { walk(child, `${at}[${i}]`); }); return; }
      if (typeof node !== 'object' || node === null) return;
      for (const [key, value] of Object.entries(node)) {
        if (key === 'format' && typeof value === 'string' && /uri|url|hostname|ipv/i.test(value)) suspicious.push(`${at}.format=${value}`);
        if (key === 'name' && typeof value === 'string' && /url|uri|host|callback|webhook|href|link|redirect/i.test(value)) suspicious.push(`${at}.name=${value}`);
        if (key === 'properties' && typeof value === 'object' && value !== null) {
          for (const property of Object.keys(value)) if (/url|uri|host|callback|webhook|href|link|redirect/i.test(property)) suspicious.push(`${at}.properties.${property}`);
        }
        walk(value, `${at}.${key}`);
      }
    };
    // What a client sends: each operation's parameters and body, and every schema they name,
    // however deep. What the shop answers (an image's URL, say) is not a URL a server fetches.
    const schemas = ((doc.components as { schemas?: Record<string, unknown> } | undefined)?.schemas) ?? {};
    const sent = new Set<string>();
    const follow = (node: unknown): void => {
      if (Array.isArray(node)) { node.forEach(follow); return; }
      if (typeof node !== 'object' || node === null) return;
      for (const [key, value] of Object.entries(node)) {
        if (key === '$ref' && typeof value === 'string') {
          const name = value.replace('#/components/schemas/', '');
          if (!sent.has(name)) { sent.add(name); follow(schemas[name]); }
        } else {
          follow(value);
        }
      }
    };
    let bodies = 0;
    for (const [route, operations] of Object.entries(doc.paths as Record<string, Record<string, { parameters?: unknown; requestBody?: unknown }>>)) {
      for (const [method, operation] of Object.entries(operations)) {
        if (operation.requestBody !== undefined) bodies++;
        follow([operation.parameters, operation.requestBody]);
        walk({ parameters: operation.parameters, requestBody: operation.requestBody }, `paths.${route}.${method}`);
      }
    }
    for (const name of sent) walk(schemas[name], `components.schemas.${name}`);
    assert.ok(Object.keys(doc.paths as object).length >= 10, 'the document was read');
    assert.ok(bodies >= 8, `the request bodies were read: ${bodies}`);
    assert.deepEqual(suspicious, []);
  });

  test('API9 inventory: the document lists only /api/v1 operations, and the gateway serves exactly those (plus its docs and probes)', async () => {
    const doc = (await api.call<{ paths: Record<string, Record<string, unknown>> }>('GET', '/api/v1/docs/json')).body;
    const documented = Object.entries(doc.paths).flatMap(([path, item]) => Object.keys(item).map((method) => `${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`)).sort();
    assert.ok(documented.every((operation) => operation.split(' ')[1]?.startsWith('/api/v1/') && !operation.includes('/docs')), `only /api/v1 operations: ${documented.join(', ')}`);

    // The routes the real gateway registers, seen by an onRoute hook put in before its own.
    const served: string[] = [];
    const gateway = await startService({
      ...gatewayService,
      async setup(app, context) {
        app.addHook('onRoute', (route) => {
          for (const method of [route.method].flat()) if (method !== 'HEAD') served.push(`${method} ${route.url}`);
        });
        await gatewayService.setup(app, context);
      },
    }, readConfig({
      ...testIdentity.env('gateway', []),
      HOST: '127.0.0.1', PORT: '0',
      USERS_URLS: shop.stack.url('users'), USERS_JWKS_URL: `${shop.stack.url('users')}/.well-known/jwks.json`,
      INVENTORY_URLS: shop.stack.url('inventory'), ORDERS_URLS: shop.stack.url('orders'), NOTIFICATIONS_URLS: shop.stack.url('notifications'),
    }), { logger: createSilentLogger('gateway') });
    addCleanup(scope, () => gateway.shutdown('test over'));

    const publicApi = served.filter((route) => route.split(' ')[1]?.startsWith('/api/') && !route.split(' ')[1]?.startsWith('/api/v1/docs')).sort();
    assert.deepEqual(publicApi, documented, 'every documented operation is served, and every served one documented');
    // Outside /api, the storefront's pages (docs/web.md), each named here, so a route added without
    // being listed (and thought about) fails this. (The probes are the kit's, made before the
    // hook above: checked below.)
    const storefront = [
      'GET /', 'GET /products/:sku', 'GET /cart', 'POST /cart/items', 'POST /cart/items/:sku', 'GET /checkout', 'POST /checkout',
      'GET /orders', 'GET /orders/:id', 'POST /orders/:id/cancel', 'GET /notifications',
      'GET /sign-in', 'POST /sign-in', 'GET /sign-up', 'POST /sign-up', 'POST /sign-out', 'GET /assets/:name',
    ];
    assert.deepEqual(served.filter((route) => !route.split(' ')[1]?.startsWith('/api/')).sort(), storefront.sort());
    const docsRoutes = served.filter((route) => route.split(' ')[1]?.startsWith('/api/v1/docs'));
    assert.ok(docsRoutes.length > 0 && docsRoutes.every((route) => route.startsWith('GET ')), `the docs are read-only: ${docsRoutes.join(', ')}`);
    // Besides those, the public listener has the platform's probes, and nothing internal.
    const tree = gateway.app.printRoutes({ commonPrefix: false });
    for (const path of ['healthz', 'readyz']) assert.ok(gateway.app.hasRoute({ method: 'GET', url: `/${path}` }), `/${path}`);
    assert.doesNotMatch(tree, /metrics|admin|events|reservations|revocations/, tree);

    // And the stack's own gateway answers every documented operation from a route (not "no route").
    for (const operation of documented) {
      const [method = '', template = ''] = operation.split(' ');
      const path = template.replace(':sku', 'COFFEE-250G').replace(':id', randomUUID());
      const answer = await api.call<Problem>(method, path, method === 'GET' ? {} : { body: {} });
      assert.notEqual(answer.body.detail, `no route for ${method} ${path}`, `${operation} is served`);
    }
  });
});
