import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { startService, type RunningService } from '@baton/kit/service';
import { addCleanup, testIdentity, createCapturedLogger, createSuiteScope, metricValue, parseMetrics, type LogLine } from '@baton/kit/testing';
import { timeoutHeader } from '@baton/kit/resilience';
import { readConfig } from '../src/config.ts';
import { gatewayService } from '../src/service.ts';
import { startServicesBehind, type ServicesBehind } from './support/services-behind.ts';

const checkoutDeadlineMs = 3_000;
const productDeadlineMs = 400;
const defaultDeadlineMs = 10_000;

// The real gateway, in process, in front of a recording stand-in for the services behind it:
// what it sends on is what those services would receive.
void describe('the gateway sets each request\'s first deadline, per route', () => {
  const suite = createSuiteScope();
  let behind: ServicesBehind;
  let gateway: RunningService<undefined>;
  let logs: LogLine[];

  before(async () => {
    behind = await startServicesBehind(suite);
    const captured = createCapturedLogger({ service: 'gateway' });
    logs = captured.lines;
    const config = readConfig({
      ...testIdentity.env('gateway', []),
      HOST: '127.0.0.1',
      PORT: '0',
      USERS_URLS: behind.url,
      INVENTORY_URLS: behind.url,
      ORDERS_URLS: behind.url,
      NOTIFICATIONS_URLS: behind.url,
      USERS_JWKS_URL: behind.jwksUrl,
      REQUEST_DEADLINE_MS: String(defaultDeadlineMs),
      ROUTE_DEADLINES_MS: JSON.stringify({ 'POST /api/v1/orders': checkoutDeadlineMs, 'GET /api/v1/products/:sku': productDeadlineMs }),
    });
    gateway = await startService(gatewayService, config, { logger: captured.logger });
    addCleanup(suite, () => gateway.shutdown('test over'));
  });

  const placeOrder = (headers: Record<string, string> = {}) => fetch(`${gateway.url}/api/v1/orders`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${behind.accessToken()}`, 'idempotency-key': randomUUID(), 'content-type': 'application/json', ...headers,
    },
    body: JSON.stringify({ items: [{ sku: 'COFFEE-1KG', quantity: 1 }] }),
  });
  /** The budget the service behind got for the last request the gateway sent it on this path. */
  const lastBudgetMs = (path: string) => behind.received.filter((r) => r.path === path).at(-1)?.budgetMs;

  void test('a route named in ROUTE_DEADLINES_MS is sent on with its own budget; a route not named, with REQUEST_DEADLINE_MS', async () => {
    assert.equal((await placeOrder()).status, 201);
    assert.equal((await fetch(`${gateway.url}/api/v1/products/COFFEE-1KG`)).status, 200);
    assert.equal((await fetch(`${gateway.url}/api/v1/products`)).status, 200);

    const checkout = lastBudgetMs('/v1/orders');
    const product = lastBudgetMs('/v1/products/COFFEE-1KG');
    const browse = lastBudgetMs('/v1/products');
    assert.ok(checkout !== undefined && checkout > productDeadlineMs && checkout <= checkoutDeadlineMs, `checkout sent on with ${checkout} ms`);
    assert.ok(product !== undefined && product > 0 && product <= productDeadlineMs, `one product sent on with ${product} ms`);
    assert.ok(browse !== undefined && browse > checkoutDeadlineMs && browse <= defaultDeadlineMs, `browsing sent on with ${browse} ms`);
  });

  void test('a caller may shorten a route\'s budget but never lengthen it', async () => {
    assert.equal((await fetch(`${gateway.url}/api/v1/products/TEA-GREEN-100G`, { headers: { [timeoutHeader]: '60000' } })).status, 200);
    const capped = lastBudgetMs('/v1/products/TEA-GREEN-100G');
    assert.ok(capped !== undefined && capped <= productDeadlineMs, `a 60 s budget from the caller was sent on as ${capped} ms`);

    assert.equal((await fetch(`${gateway.url}/api/v1/products`, { headers: { [timeoutHeader]: '250' } })).status, 200);
    const shortened = lastBudgetMs('/v1/products');
    assert.ok(shortened !== undefined && shortened <= 250, `a 250 ms budget from the caller was sent on as ${shortened} ms`);
  });

  void test('a service that does not answer: checkout is 504 at the route\'s own budget, naming the gateway as the hop in the answer, the log and the metric', async () => {
    behind.answerAfter(Infinity);
    try {
      const res = await placeOrder();
      assert.equal(res.status, 504);
      assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
      const problem = await res.json() as { code: string; hop?: string; reason?: string; request_id: string };
      // The gateway's own deadline ran out: not its client's UPSTREAM_TIMEOUT_MS (8 s, reason
      // `timeout`, no hop), which is what would end the call without the route's deadline.
      assert.equal(problem.code, 'timeout', 'the public word for deadline_exceeded');
      assert.equal(problem.hop, 'gateway');
      assert.equal(problem.reason, undefined, 'the internal reason stays inside');

      const call = behind.received.filter((r) => r.path === '/v1/orders').at(-1);
      assert.ok(call !== undefined && call.budgetMs <= checkoutDeadlineMs, `sent on with ${call?.budgetMs} ms`);
      for (let i = 0; i < 200 && !call.aborted; i++) await sleep(10);
      assert.equal(call.aborted, true, 'the gateway gave up on the call it was waiting for');

      const line = logs.find((l) => l.request_id === problem.request_id && l.code === 'deadline_exceeded');
      assert.ok(line, 'the expired request has a log line');
      assert.equal(line.level, 'warn');
      assert.equal(line.hop, 'gateway');
      const metrics = parseMetrics(await (await fetch(`${gateway.adminUrl}/metrics`)).text());
      assert.equal(metricValue(metrics, 'baton_deadline_exceeded_total', { hop: 'gateway' }), 1);
    } finally {
      behind.answerAfter(0);
    }
  });

  void test('the internal routes of the services behind are not routed: 404 problems from the gateway, and nothing reaches a service', async () => {
    const seen = behind.received.length;
    const internal: Array<[string, string]> = [
      ['GET', '/events/v1/feed'],
      ['GET', '/v1/users/me'],
      ['GET', `/v1/users/${randomUUID()}`],
      ['POST', '/v1/users'],
      ['POST', '/admin/keys/rotate'],
      ['GET', '/.well-known/jwks.json'],
      ['GET', '/v1/products'],
      ['POST', '/v1/reservations'],
      ['GET', '/v1/orders'],
      ['GET', '/v1/notifications'],
      ['GET', '/admin/dead-letters'],
      ['GET', '/admin/faults'],
      ['GET', '/api/v1/events/v1/feed'],
      ['GET', '/api/v2/orders'],
    ];
    for (const [method, path] of internal) {
      const res = await fetch(`${gateway.url}${path}`, { method, headers: { authorization: `Bearer ${behind.accessToken()}` } });
      assert.equal(res.status, 404, `${method} ${path}`);
      assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/, `${method} ${path}`);
      assert.equal((await res.json() as { code: string }).code, 'not_found');
    }
    assert.equal(behind.received.length, seen, 'no request went on to a service');
  });
});

void test('by default only checkout has a deadline of its own: 8 s, under the 10 s of every other route', () => {
  const config = readConfig({ ...testIdentity.env('gateway', []), USERS_URLS: 'http://127.0.0.1:1', INVENTORY_URLS: 'http://127.0.0.1:1', ORDERS_URLS: 'http://127.0.0.1:1', NOTIFICATIONS_URLS: 'http://127.0.0.1:1' });
  assert.deepEqual(config.ROUTE_DEADLINES_MS, { 'POST /api/v1/orders': 8_000 });
  assert.equal(config.REQUEST_DEADLINE_MS, 10_000);
});
