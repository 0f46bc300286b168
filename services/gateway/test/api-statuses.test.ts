import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { timeoutHeader } from '@baton/kit/resilience';
import { startService, type RunningService } from '@baton/kit/service';
import { addCleanup, createSilentLogger, createSuiteScope, findFreePort, testIdentity } from '@baton/kit/testing';
import { readConfig } from '../src/config.ts';
import { gatewayService } from '../src/service.ts';
import { startServicesBehind, type ServicesBehind } from './support/services-behind.ts';

// A request each operation would carry out: what it takes, well formed. `judgedBehind`: the
// body's type is judged by the service behind (an image, by its bytes), not by the gateway.
interface Call { method: string; path: string; caller: 'anyone' | 'user' | 'staff'; body?: unknown; query?: string; badPath?: string; judgedBehind?: boolean }
const sku = 'COFFEE-1KG';
const orderId = randomUUID();
const imageId = randomUUID();
const calls: Record<string, Call> = {
  register: { method: 'POST', path: '/api/v1/users', caller: 'anyone', body: { email: 'ada@example.com', password: 'correct horse battery staple', name: 'Ada' } },
  signIn: { method: 'POST', path: '/api/v1/auth/login', caller: 'anyone', body: { email: 'ada@example.com', password: 'correct horse battery staple' } },
  refreshSession: { method: 'POST', path: '/api/v1/auth/refresh', caller: 'anyone', body: { refreshToken: 'a-refresh-token' } },
  signOut: { method: 'POST', path: '/api/v1/auth/logout', caller: 'user', body: {} },
  changePassword: { method: 'POST', path: '/api/v1/users/me/password', caller: 'user', body: { currentPassword: 'correct horse battery staple', newPassword: 'another horse battery staple' } },
  getMe: { method: 'GET', path: '/api/v1/users/me', caller: 'user' },
  listProducts: { method: 'GET', path: '/api/v1/products', caller: 'anyone', query: 'q=coffee' },
  listCategories: { method: 'GET', path: '/api/v1/categories', caller: 'anyone' },
  getProduct: { method: 'GET', path: `/api/v1/products/${sku}`, caller: 'anyone', badPath: '/api/v1/products/not%20a%20sku' },
  createProduct: { method: 'POST', path: '/api/v1/products', caller: 'staff', body: { sku: 'KETTLE-2L', name: 'Kettle, 2 l', category: 'brewing', priceCents: 3900 } },
  updateProduct: { method: 'PATCH', path: `/api/v1/products/${sku}`, caller: 'staff', body: { priceCents: 2590 } },
  moveStock: { method: 'POST', path: `/api/v1/products/${sku}/stock`, caller: 'staff', body: { delta: 10, reason: 'restock' } },
  listStockMovements: { method: 'GET', path: `/api/v1/products/${sku}/stock`, caller: 'staff', badPath: '/api/v1/products/not%20a%20sku/stock' },
  placeOrder: { method: 'POST', path: '/api/v1/orders', caller: 'user', body: { items: [{ sku, quantity: 1 }] } },
  listOrders: { method: 'GET', path: '/api/v1/orders', caller: 'user', query: 'limit=10' },
  getOrder: { method: 'GET', path: `/api/v1/orders/${orderId}`, caller: 'user', badPath: '/api/v1/orders/not-an-order-id' },
  cancelOrder: { method: 'POST', path: `/api/v1/orders/${orderId}/cancel`, caller: 'user', badPath: '/api/v1/orders/not-an-order-id/cancel' },
  listNotifications: { method: 'GET', path: '/api/v1/notifications', caller: 'user', query: 'limit=10' },
  uploadProductImage: { method: 'POST', path: `/api/v1/products/${sku}/images`, caller: 'staff', body: { anything: 'media judges it' }, badPath: '/api/v1/products/not%20a%20sku/images', judgedBehind: true },
  getImage: { method: 'GET', path: `/api/v1/images/${imageId}`, caller: 'anyone', badPath: '/api/v1/images/not-an-image-id' },
  getImageOriginal: { method: 'GET', path: `/api/v1/images/${imageId}/original`, caller: 'staff', badPath: '/api/v1/images/not-an-image-id/original' },
  getImageSize: { method: 'GET', path: `/api/v1/images/${imageId}/sizes/640`, caller: 'anyone', badPath: `/api/v1/images/${imageId}/sizes/500` },
};

interface Operation { id: string; method: string; route: string; statuses: Set<number> }
const bodyLimitBytes = 2_048;

/**
 * The statuses of the public API that do not depend on what a service answers, produced for
 * every operation its document lists them for, by the real gateway in this process: a request
 * it refuses itself (400, 401, 403, 413, 415), a service behind that never answers (504), one
 * that is not there (503), a caller over its limit (429). Every gateway here notes what it
 * answered in the run's answer record (ANSWER_RECORD_FILE), as the shop's do; the statuses only
 * a service gives (404, 409, 422, 2xx) are the end-to-end tests' to produce, and `npm test`
 * holds the whole record against the document at its end (test/support/api-statuses.ts).
 */
void describe('every operation gives each status its document lists that the gateway decides', () => {
  const suite = createSuiteScope();
  let behind: ServicesBehind;
  let operations: Operation[];
  const produced = new Map<string, Set<number>>();
  const gateways: Array<RunningService<undefined>> = [];

  async function startGateway(settings: Record<string, string>): Promise<RunningService<undefined>> {
    const record = process.env.ANSWER_RECORD_FILE;
    const config = readConfig({
      ...testIdentity.env('gateway', []), HOST: '127.0.0.1', PORT: '0',
      USERS_URLS: behind.url, INVENTORY_URLS: behind.url, ORDERS_URLS: behind.url, NOTIFICATIONS_URLS: behind.url, MEDIA_URLS: behind.url, USERS_JWKS_URL: behind.jwksUrl,
      REQUEST_DEADLINE_MS: '300', ROUTE_DEADLINES_MS: '{}', BODY_LIMIT_BYTES: String(bodyLimitBytes),
      // The upload route's own limit, as small as the others' here; its deadline as short.
      MAX_UPLOAD_BYTES: String(bodyLimitBytes), UPLOAD_DEADLINE_MS: '300',
      ...(record ? { ANSWER_RECORD_FILE: record } : {}),
      ...settings,
    });
    const gateway = await startService(gatewayService, config, { logger: createSilentLogger('gateway') });
    gateways.push(gateway);
    return gateway;
  }

  async function send(gateway: RunningService<undefined>, operation: Operation, change: { path?: string; body?: string; contentType?: string; token?: string | null; headers?: Record<string, string> } = {}): Promise<number> {
    const call = calls[operation.id]!;
    const token = change.token === undefined ? (call.caller === 'anyone' ? null : behind.accessToken(call.caller === 'staff' ? { roles: ['staff'] } : {})) : change.token;
    const body = change.body ?? (call.body === undefined ? undefined : JSON.stringify(call.body));
    const response = await fetch(`${gateway.url}${change.path ?? call.path}${call.query ? `?${call.query}` : ''}`, {
      method: call.method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body === undefined ? {} : { 'content-type': change.contentType ?? 'application/json' }),
        ...(operation.id === 'placeOrder' ? { 'idempotency-key': randomUUID() } : {}),
        ...change.headers,
      },
      ...(body === undefined ? {} : { body }),
    });
    await response.arrayBuffer();
    const statuses = produced.get(operation.id) ?? new Set<number>();
    produced.set(operation.id, statuses.add(response.status));
    return response.status;
  }

  before(async () => {
    behind = await startServicesBehind(suite);
    // Each shutdown takes its own half second or so: all at once, at the end.
    addCleanup(suite, () => Promise.all(gateways.map((gateway) => gateway.shutdown('test over'))));
    const gateway = await startGateway({});
    const document = await (await fetch(`${gateway.url}/api/v1/docs/json`)).json() as {
      paths: Record<string, Record<string, { operationId: string; responses: Record<string, unknown> }>>;
    };
    operations = Object.entries(document.paths).flatMap(([route, byMethod]) => Object.entries(byMethod).map(([method, operation]) => ({
      id: operation.operationId, method: method.toUpperCase(), route, statuses: new Set(Object.keys(operation.responses).map(Number)),
    })));
  });

  test('each operation of the document has a request here, with its method and path', () => {
    assert.deepEqual(operations.map((o) => o.id).sort(), Object.keys(calls).sort());
    for (const operation of operations) {
      const call = calls[operation.id]!;
      assert.equal(call.method, operation.method, operation.id);
      assert.match(call.path, new RegExp(`^${operation.route.replace(/\{\w+\}/g, '[^/]+')}$`), operation.id);
    }
  });

  test('the gateway refuses a request it cannot take: 401 without a token (whatever the body), 403 for a shopper on a staff route, 400 naming what is wrong, 413 too large, 415 not JSON, 408 with its time spent', async () => {
    behind.answerAfter(Infinity);
    const gateway = await startGateway({});
    for (const operation of operations) {
      const call = calls[operation.id]!;
      const expect = (status: number, actual: number) => assert.equal(actual, status, `${operation.id}: ${status}`);
      if (call.caller !== 'anyone') expect(401, await send(gateway, operation, { token: null }));
      // The token is checked before the body is read: without one, a bad body is a 401 too, and
      // the caller learns nothing of what the route would take.
      if (call.caller !== 'anyone' && call.body !== undefined) expect(401, await send(gateway, operation, { token: null, body: '[]' }));
      if (call.caller === 'staff') expect(403, await send(gateway, operation, { token: behind.accessToken() }));
      if (operation.statuses.has(400)) {
        expect(400, await (call.body !== undefined && !call.judgedBehind ? send(gateway, operation, { body: '[]' })
          : call.badPath ? send(gateway, operation, { path: call.badPath })
            : send(gateway, operation, { path: `${call.path}?limit=0` })));
      }
      if (operation.statuses.has(413)) expect(413, await send(gateway, operation, { body: JSON.stringify({ filler: 'x'.repeat(bodyLimitBytes) }) }));
      if (operation.statuses.has(415) && !call.judgedBehind) expect(415, await send(gateway, operation, { body: 'plain words', contentType: 'text/plain' }));
      // A caller may say how long it will wait; one with no time left is refused before any work.
      if (operation.statuses.has(408)) expect(408, await send(gateway, operation, { headers: { [timeoutHeader]: '0' } }));
    }
  });

  test('a service that never answers: 504 for every operation, once its deadline runs out', async () => {
    behind.answerAfter(Infinity);
    // A gateway each: timeouts on one route would open the breaker that the next one shares.
    const answers = await Promise.all(operations.map(async (operation) => [operation.id, await send(await startGateway({}), operation)] as const));
    assert.deepEqual(answers.filter(([, status]) => status !== 504), []);
  });

  test('services that cannot serve (their database is down, say): 503 for every operation', async () => {
    behind.answerAfter(0);
    behind.unavailable(true);
    try {
      const gateway = await startGateway({});
      for (const operation of operations) assert.equal(await send(gateway, operation), 503, operation.id);
    } finally {
      behind.unavailable(false);
    }
  });

  test('services that are not there at all: 503 once their retries are spent', async () => {
    // A port that was free a moment ago, with nothing listening: every connection is refused.
    const nowhere = `http://127.0.0.1:${await findFreePort()}`;
    const gateway = await startGateway({ USERS_URLS: nowhere, INVENTORY_URLS: nowhere, ORDERS_URLS: nowhere, NOTIFICATIONS_URLS: nowhere, REQUEST_DEADLINE_MS: '20000' });
    assert.equal(await send(gateway, operations.find((o) => o.id === 'listProducts')!), 503);
  });

  test('a caller past its request limit: 429 for every operation', async () => {
    behind.answerAfter(0);
    const gateway = await startGateway({ RATE_LIMIT_PER_ADDRESS_PER_MINUTE: '1' });
    await fetch(`${gateway.url}/api/v1/categories`).then((r) => r.arrayBuffer());
    for (const operation of operations) assert.equal(await send(gateway, operation), 429, operation.id);
  });

  test('each of those statuses that an operation documents was produced for it above', () => {
    const decidedHere = [400, 401, 403, 408, 413, 415, 429, 503, 504];
    for (const operation of operations) {
      const call = calls[operation.id]!;
      // A 401 or 403 on a route open to anyone or to any user is the service's (wrong_credentials, wrong_password);
      // a 415 for a body judged behind the gateway is the service's (media's not_an_image).
      const documented = decidedHere.filter((status) => operation.statuses.has(status)
        && (status !== 401 || call.caller !== 'anyone') && (status !== 403 || call.caller === 'staff') && (status !== 415 || !call.judgedBehind));
      assert.deepEqual(documented.filter((status) => !produced.get(operation.id)?.has(status)), [], operation.id);
    }
  });
});
