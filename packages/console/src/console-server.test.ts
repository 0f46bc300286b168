import { after, before, describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { SpanKind } from '@opentelemetry/api';
import { addCleanup, refusedUrl, sendJson, sendRaw, startUpstream, type Upstream } from '@baton/kit/testing';
import { createMetrics } from '@baton/kit/telemetry';
import type { TraceSummary, Waterfall } from '@baton/kit/telemetry/collector';
// The kit's client metrics, reached by path (no entry exports them): the gateway's fake admin
// listener serves what a real one would.
import { createClientMetrics } from '../../kit/src/telemetry/client-metrics.ts';
import { createTracing } from '../../kit/src/telemetry/tracing/tracing.ts';
import { isPersonsRequest, startConsole, type Console } from './console-server.ts';
import type { ConsoleStack, ProcessState } from './console-stack.ts';

interface AdminCall { method: string; path: string; authorization: string | undefined; body: string }

/**
 * A service's admin listener as the console sees it: `/admin/metrics.json` and `/admin/faults`,
 * behind its own bearer token, recording every call.
 */
async function startFakeAdmin(token: string, metricsJson: () => Promise<unknown>): Promise<Upstream & { calls: AdminCall[]; state: { rules: unknown[] } }> {
  const calls: AdminCall[] = [];
  const state = { rules: [] as unknown[] };
  const upstream = await startUpstream(async (req, res) => {
    const body = await textOf(req);
    calls.push({ method: req.method ?? '', path: req.url ?? '', authorization: req.headers.authorization, body });
    if (req.headers.authorization !== `Bearer ${token}`) return sendJson(res, 401, { title: 'Unauthenticated' });
    if (req.method === 'GET' && req.url === '/admin/metrics.json') return sendJson(res, 200, await metricsJson());
    // The kit's dead-letter routes (packages/kit/src/messaging/admin-routes.ts), as a consumer answers them.
    if (req.method === 'GET' && req.url === '/admin/dead-letters?limit=100') return sendJson(res, 200, { subscription: 'notifications', items: [{ id: 7, type: 'order.created', error: 'boom' }] });
    if (req.method === 'POST' && req.url === '/admin/dead-letters/7/replay') return sendJson(res, 200, { id: 7, result: 'handled' });
    if (req.method === 'POST' && req.url === '/admin/dead-letters/replay') return sendJson(res, 200, { results: [] });
    if (req.url !== '/admin/faults') return sendJson(res, 404, { title: 'Not Found' });
    if (req.method === 'PUT') state.rules = (JSON.parse(body) as { rules: unknown[] }).rules;
    if (req.method === 'DELETE') state.rules = [];
    return sendJson(res, 200, { rules: state.rules });
  });
  return Object.assign(upstream, { calls, state });
}

async function textOf(req: IncomingMessage): Promise<string> {
  let text = '';
  for await (const chunk of req) text += String(chunk);
  return text;
}

/** A server-sent event stream, read event by event (comments skipped). */
async function openEvents(t: TestContext, url: string): Promise<{ next(): Promise<{ event: string; data: unknown }> }> {
  const abort = new AbortController();
  addCleanup(t, () => abort.abort());
  const response = await fetch(url, { signal: abort.signal });
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type') ?? '', /^text\/event-stream/);
  assert.ok(response.body);
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = '';
  return {
    async next() {
      for (;;) {
        const end = buffered.indexOf('\n\n');
        if (end >= 0) {
          const block = buffered.slice(0, end);
          buffered = buffered.slice(end + 2);
          const event = /^event: (.*)$/m.exec(block)?.[1];
          if (event !== undefined) return { event, data: JSON.parse(/^data: (.*)$/m.exec(block)?.[1] ?? 'null') as unknown };
          continue;
        }
        const { value, done } = await reader.read();
        if (done) throw new Error(`${url}: the stream ended`);
        buffered += value;
      }
    },
  };
}

/** Polls until `read` gives something `accept` takes; fails with the last value after `withinMs`. */
async function eventually<T>(what: string, read: () => Promise<T>, accept: (value: T) => boolean, withinMs = 10_000): Promise<T> {
  const deadline = performance.now() + withinMs;
  for (;;) {
    const value = await read();
    if (accept(value)) return value;
    if (performance.now() > deadline) assert.fail(`${what}: not within ${withinMs} ms; last: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

// OTLP/HTTP JSON span kinds: 2 server, 3 client.
const server = 2;
const client = 3;
interface SpanSpec { traceId: string; spanId: string; parentSpanId?: string; name: string; kind: number; startMs: number; endMs: number; attributes?: Record<string, string | number>; events?: Array<{ name: string; atMs: number; attributes: Record<string, string | number> }>; error?: boolean }

/** One OTLP/HTTP JSON export of a service's spans, as the kit's exporter sends it. */
function exportOf(service: string, spans: SpanSpec[]) {
  const keyValues = (attributes: Record<string, string | number> = {}) => Object.entries(attributes)
    .map(([key, value]) => ({ key, value: typeof value === 'number' ? { intValue: String(value) } : { stringValue: value } }));
  const nanos = (ms: number) => (BigInt(ms) * 1_000_000n).toString();
  return {
    resourceSpans: [{
      resource: { attributes: keyValues({ 'service.name': service }) },
      scopeSpans: [{
        spans: spans.map((s) => ({
          traceId: s.traceId, spanId: s.spanId, ...(s.parentSpanId ? { parentSpanId: s.parentSpanId } : {}), name: s.name, kind: s.kind,
          startTimeUnixNano: nanos(s.startMs), endTimeUnixNano: nanos(s.endMs), attributes: keyValues(s.attributes),
          events: (s.events ?? []).map((e) => ({ name: e.name, timeUnixNano: nanos(e.atMs), attributes: keyValues(e.attributes) })),
          status: { code: s.error ? 2 : 0 },
        })),
      }],
    }],
  };
}

void describe('the console\'s server, with a fake stack of three services', () => {
  const tokens = { gateway: 'gateway-admin-token', inventory: 'inventory-admin-token', orders: 'orders-admin-token' } as const;
  type Name = keyof typeof tokens;
  const states: Record<Name, { state: ProcessState; pid: number | undefined; restarts: number }> = {
    gateway: { state: 'ready', pid: process.pid, restarts: 0 },
    inventory: { state: 'ready', pid: process.pid, restarts: 2 },
    orders: { state: 'stopped', pid: undefined, restarts: 0 },
  };
  const actions: string[] = [];
  let shown: Console;
  let port: number;
  const admins = {} as Record<Name, Upstream & { calls: AdminCall[]; state: { rules: unknown[] } }>;
  let ordersAdmin: string;

  before(async () => {
    // The gateway's client for inventory: two instances, the second's breaker open.
    const gatewayMetrics = createMetrics();
    const clientMetrics = createClientMetrics(gatewayMetrics.registry);
    clientMetrics.onEvent({ type: 'discovery', upstream: 'inventory', instances: ['http://127.0.0.1:9101', 'http://127.0.0.1:9102'] });
    clientMetrics.onEvent({ type: 'breaker_state', upstream: 'inventory', instance: 'http://127.0.0.1:9102', from: 'closed', to: 'open' });
    const inventoryMetrics = createMetrics();
    admins.gateway = await startFakeAdmin(tokens.gateway, () => gatewayMetrics.registry.getMetricsAsJSON());
    admins.inventory = await startFakeAdmin(tokens.inventory, () => inventoryMetrics.registry.getMetricsAsJSON());
    // Orders is stopped: nothing listens on its admin port.
    ordersAdmin = await refusedUrl();

    shown = await startConsole({ host: '127.0.0.1', port: 0, entryService: 'gateway' });
    port = Number(new URL(shown.url).port);
    const act = (action: string) => async (name: string, signal?: string) => {
      actions.push(signal === undefined ? `${action} ${name}` : `${action} ${name} ${signal}`);
      if (action === 'restart') throw new Error('it would not stop');
    };
    const stack: ConsoleStack = {
      services: ['gateway', 'inventory', 'orders'],
      url: (name) => `http://127.0.0.1:${name === 'gateway' ? 18080 : 18081}`,
      adminUrl: (name) => (name === 'orders' ? ordersAdmin : admins[name as Name].url),
      adminToken: (name) => tokens[name as Name],
      status: (name) => states[name as Name],
      start: act('start'), stop: act('stop'), kill: act('kill'), restart: act('restart'), waitReady: async () => undefined,
    };
    shown.attach(stack);
  });

  after(async () => {
    await shown.close();
    await admins.gateway.close();
    await admins.inventory.close();
  });

  test('/api/state lists every service with its process; the map\'s edges come from the admin listeners\' metrics, read with each one\'s token', async () => {
    type State = { services: Array<{ name: string; url: string; state: string; pid: number | undefined; restarts: number; rssBytes: number | undefined; figures?: { requestsPerSecond: number } }>; edges: Array<{ from: string; to: string; via: string; breaker: string; instances: unknown[] }> };
    const read = async () => (await fetch(`${shown.url}/api/state`)).json() as Promise<State>;
    const state = await eventually('the gateway->inventory edge', read, (s) => s.edges.some((e) => e.from === 'gateway' && e.to === 'inventory'));

    assert.deepEqual(state.services.map((s) => [s.name, s.state, s.pid, s.restarts]), [
      ['gateway', 'ready', process.pid, 0], ['inventory', 'ready', process.pid, 2], ['orders', 'stopped', undefined, 0],
    ]);
    assert.equal(state.services[0]?.url, 'http://127.0.0.1:18080');
    assert.ok((state.services[0]?.rssBytes ?? 0) > 0, 'the process\'s memory, from /proc');
    assert.equal(state.services[0]?.figures?.requestsPerSecond, 0, 'the gateway\'s own figures');
    assert.equal(state.services[2]?.figures, undefined, 'a stopped service is not read');
    const edge = state.edges.find((e) => e.from === 'gateway' && e.to === 'inventory');
    assert.deepEqual([edge?.via, edge?.breaker, edge?.instances.length], ['call', 'open', 2]);
    for (const name of ['gateway', 'inventory'] as const) {
      const reads = admins[name].calls.filter((c) => c.path === '/admin/metrics.json');
      assert.ok(reads.length > 0 && reads.every((c) => c.authorization === `Bearer ${tokens[name]}`), `${name}'s metrics read with its own token`);
    }
  });

  test('the page and its assets are served; an unknown asset is 404', async () => {
    const page = await fetch(`${shown.url}/`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
    assert.match(page.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
    assert.match(await page.text(), /<script type="module" src="\/assets\/console.js">/);
    for (const asset of ['console.js', 'console.css', 'preact-htm.js']) {
      const answer = await fetch(`${shown.url}/assets/${asset}`);
      assert.equal(answer.status, 200, asset);
      await answer.arrayBuffer();
    }
    assert.equal((await fetch(`${shown.url}/assets/..%2Fpackage.json`)).status, 404);
  });

  test('only its own loopback Host is answered (421 otherwise): a name pointed at 127.0.0.1 cannot read it', async () => {
    const evil = await sendRaw(shown.url, { path: '/api/state', headers: { host: `evil.example:${port}` } });
    assert.equal(evil.status, 421);
    assert.doesNotMatch(evil.body, /gateway/);
    assert.equal((await sendRaw(shown.url, { path: '/api/state', headers: { host: `127.0.0.1:${port + 1}` } })).status, 421, 'another port');
    assert.equal((await sendRaw(shown.url, { path: '/api/state', headers: { host: `localhost:${port}` } })).status, 200);
    assert.equal((await sendRaw(shown.url, { path: '/api/state', headers: { host: `[::1]:${port}` } })).status, 200);
  });

  test('a change must be JSON (415) from no other origin (403); then POST /api/services/:name/:action calls the stack', async () => {
    const post = (path: string, headers: Record<string, string>) => sendRaw(shown.url, { method: 'POST', path, headers: { host: `127.0.0.1:${port}`, ...headers }, body: '{}' });
    actions.length = 0;
    assert.equal((await post('/api/services/inventory/kill', { 'content-type': 'text/plain' })).status, 415);
    assert.equal((await post('/api/services/inventory/kill', { 'content-type': 'application/x-www-form-urlencoded' })).status, 415);
    assert.equal((await post('/api/services/inventory/kill', { 'content-type': 'application/x-protobuf' })).status, 415, 'protobuf is for spans only');
    assert.equal((await post('/api/services/inventory/kill', { 'content-type': 'application/json', origin: 'http://evil.example' })).status, 403);
    assert.equal((await post('/api/services/inventory/kill', { 'content-type': 'application/json', origin: 'null' })).status, 403);
    assert.deepEqual(actions, [], 'nothing refused reached the stack');

    const killed = await post('/api/services/inventory/kill', { 'content-type': 'application/json', origin: `http://127.0.0.1:${port}` });
    assert.equal(killed.status, 202, killed.body);
    assert.equal((await post('/api/services/gateway/stop', { 'content-type': 'application/json' })).status, 202, 'no Origin (curl) is fine');
    assert.deepEqual(actions, ['kill inventory', 'stop gateway']);

    assert.equal((await post('/api/services/nobody/kill', { 'content-type': 'application/json' })).status, 404);
    assert.equal((await post('/api/services/inventory/explode', { 'content-type': 'application/json' })).status, 404);
    assert.equal((await sendRaw(shown.url, { path: '/api/services/inventory/kill', headers: { host: `127.0.0.1:${port}` } })).status, 404, 'a GET changes nothing');
    assert.deepEqual(actions, ['kill inventory', 'stop gateway']);

    // Freezing is SIGSTOP and thawing SIGCONT, sent through the stack.
    actions.length = 0;
    assert.equal((await post('/api/services/inventory/freeze', { 'content-type': 'application/json' })).status, 202);
    assert.equal((await post('/api/services/inventory/thaw', { 'content-type': 'application/json' })).status, 202);
    assert.deepEqual(actions, ['kill inventory SIGSTOP', 'kill inventory SIGCONT']);

    // An action that fails later is said in the console's own log lines.
    assert.equal((await post('/api/services/inventory/restart', { 'content-type': 'application/json' })).status, 202);
    const logged = await eventually('the failed restart logged', async () => (await (await fetch(`${shown.url}/api/logs?service=console`)).json()) as { lines: Array<{ level: string; msg: string }> },
      (body) => body.lines.length > 0);
    assert.deepEqual(logged.lines.map((l) => [l.level, l.msg]), [['error', 'restart inventory failed: Error: it would not stop']]);
  });

  test('faults: GET, PUT and DELETE /api/faults/:name reach the service\'s admin listener with its token', async () => {
    const rules = [{ route: '*', percent: 100, status: 503 }];
    const headers = { 'content-type': 'application/json' };
    const put = await fetch(`${shown.url}/api/faults/inventory`, { method: 'PUT', headers, body: JSON.stringify({ rules }) });
    assert.equal(put.status, 200);
    assert.deepEqual(await put.json(), { rules });
    assert.deepEqual(admins.inventory.state.rules, rules);
    assert.deepEqual(await (await fetch(`${shown.url}/api/faults/inventory`)).json(), { rules });
    // As the page's Clear sends it (through its send(): every change is a JSON body).
    const cleared = await fetch(`${shown.url}/api/faults/inventory`, { method: 'DELETE', headers, body: '{}' });
    assert.equal(cleared.status, 200, await cleared.clone().text());
    assert.deepEqual(await cleared.json(), { rules: [] });

    const faultCalls = admins.inventory.calls.filter((c) => c.path === '/admin/faults');
    assert.deepEqual(faultCalls.map((c) => [c.method, c.authorization]), [['PUT', `Bearer ${tokens.inventory}`], ['GET', `Bearer ${tokens.inventory}`], ['DELETE', `Bearer ${tokens.inventory}`]]);
    assert.deepEqual(JSON.parse(faultCalls[0]?.body ?? ''), { rules }, 'the rules passed on as sent');
    assert.equal(admins.gateway.calls.filter((c) => c.path === '/admin/faults').length, 0);

    assert.equal((await fetch(`${shown.url}/api/faults/nobody`)).status, 404);
    const down = await fetch(`${shown.url}/api/faults/orders`);
    assert.equal(down.status, 503, 'a service not listening');
    assert.match(((await down.json()) as { error: string }).error, /^orders did not answer/);
    assert.equal((await fetch(`${shown.url}/api/faults/inventory`, { method: 'PUT', headers: { 'content-type': 'text/plain' }, body: '{}' })).status, 415);
  });

  test('dead letters: listed and redriven one by one or all through the consumer\'s admin listener, with its token', async () => {
    const headers = { 'content-type': 'application/json' };
    assert.deepEqual(await (await fetch(`${shown.url}/api/dead-letters/inventory`)).json(), { subscription: 'notifications', items: [{ id: 7, type: 'order.created', error: 'boom' }] });
    assert.deepEqual(await (await fetch(`${shown.url}/api/dead-letters/inventory/7/replay`, { method: 'POST', headers, body: '{}' })).json(), { id: 7, result: 'handled' });
    assert.deepEqual(await (await fetch(`${shown.url}/api/dead-letters/inventory/replay`, { method: 'POST', headers, body: '{}' })).json(), { results: [] });
    const calls = admins.inventory.calls.filter((c) => c.path.startsWith('/admin/dead-letters'));
    assert.deepEqual(calls.map((c) => [c.method, c.path, c.authorization]), [
      ['GET', '/admin/dead-letters?limit=100', `Bearer ${tokens.inventory}`],
      ['POST', '/admin/dead-letters/7/replay', `Bearer ${tokens.inventory}`],
      ['POST', '/admin/dead-letters/replay', `Bearer ${tokens.inventory}`],
    ]);
    assert.equal((await fetch(`${shown.url}/api/dead-letters/inventory/..%2Ffaults/replay`, { method: 'POST', headers, body: '{}' })).status, 404, 'an id is a number, never a path');
    assert.equal((await fetch(`${shown.url}/api/dead-letters/nobody`)).status, 404);
  });

  test('/api/history keeps each running service\'s RED figures a point a reading', async () => {
    type History = { services: Record<string, Array<{ at: string; requestsPerSecond: number; errorsPerSecond: number }>> };
    const history = await eventually('two points for the gateway', async () => (await (await fetch(`${shown.url}/api/history`)).json()) as History,
      (h) => (h.services.gateway?.length ?? 0) >= 2);
    assert.deepEqual(Object.keys(history.services).sort(), ['gateway', 'inventory'], 'a stopped service has none');
    assert.equal(history.services.gateway?.[0]?.requestsPerSecond, 0);
    assert.ok(Date.parse(history.services.gateway?.[1]?.at ?? '') >= Date.parse(history.services.gateway?.[0]?.at ?? ''));
  });

  test('/api/stream sends the state as a `state` event at once and each second after', async (t) => {
    const events = await openEvents(t, `${shown.url}/api/stream`);
    const first = await events.next();
    assert.equal(first.event, 'state');
    assert.deepEqual((first.data as { services: Array<{ name: string }> }).services.map((s) => s.name), ['gateway', 'inventory', 'orders']);
    const second = await events.next();
    assert.equal(second.event, 'state');
    assert.ok(Date.parse((second.data as { at: string }).at) > Date.parse((first.data as { at: string }).at), 'a later state');
  });

  test('/api/logs/stream sends the last lines that match its filter, then each new line that matches, and no other', async (t) => {
    const line = (service: string, level: number, msg: string) => ({ service, text: JSON.stringify({ level, msg }), record: { level, msg } });
    shown.log(line('inventory', 40, 'injecting a fault (earlier)'));
    shown.log(line('inventory', 30, 'fault rules read (earlier)'));
    const events = await openEvents(t, `${shown.url}/api/logs/stream?service=inventory&level=warn&q=FAULT`);
    const msgOf = (event: { event: string; data: unknown }) => [event.event, (event.data as { msg: string }).msg];
    assert.deepEqual(msgOf(await events.next()), ['line', 'injecting a fault (earlier)']);

    shown.log(line('gateway', 40, 'a fault elsewhere'));
    shown.log(line('inventory', 50, 'database down'));
    shown.log(line('inventory', 30, 'fault rules read'));
    shown.log(line('inventory', 40, 'injecting a fault'));
    // Lines are sent in the order written: the first to arrive is the first that matched.
    assert.deepEqual(msgOf(await events.next()), ['line', 'injecting a fault']);
    assert.equal((await fetch(`${shown.url}/api/logs/stream?level=loud`)).status, 400);
  });

  test('/traces keeps people\'s requests (the entry\'s SERVER roots) apart from the shop\'s own work (its polls, the probes)', async () => {
    const id = (digit: string, length: number) => digit.repeat(length);
    const now = Date.now();
    const user = id('a', 32);
    const poll = id('b', 32);
    const probe = id('c', 32);
    const send = async (service: string, spans: SpanSpec[]) => {
      const answer = await fetch(`${shown.url}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(exportOf(service, spans)) });
      assert.equal(answer.status, 200, await answer.text());
    };
    // A person's GET /api/v1/products: the gateway's attempt 2 retried after a 503.
    await send('inventory', [{ traceId: user, spanId: id('3', 16), parentSpanId: id('2', 16), name: 'GET /v1/products', kind: server, startMs: now + 2, endMs: now + 5, error: true }]);
    await send('gateway', [
      { traceId: user, spanId: id('2', 16), parentSpanId: id('1', 16), name: 'GET', kind: client, startMs: now + 1, endMs: now + 6, attributes: { 'http.request.resend_count': 1 },
        events: [{ name: 'baton.retry', atMs: now + 6, attributes: { attempt: 1, delay_ms: 50, 'baton.error.code': 'unavailable' } }] },
      { traceId: user, spanId: id('1', 16), name: 'GET /api/v1/products', kind: server, startMs: now, endMs: now + 60 },
      { traceId: poll, spanId: id('4', 16), name: 'GET', kind: client, startMs: now, endMs: now + 3 },
      { traceId: probe, spanId: id('5', 16), name: 'GET /healthz', kind: server, startMs: now, endMs: now + 1 },
    ]);

    const search = async (query: string) => ((await (await fetch(`${shown.url}/traces?${query}`)).json()) as { traces: TraceSummary[] }).traces.map((s) => s.traceId);
    assert.deepEqual(await search('kind=user'), [user]);
    assert.deepEqual((await search('kind=background')).sort(), [poll, probe]);
    assert.deepEqual((await search('')).sort(), [user, poll, probe]);
    assert.deepEqual(await search('kind=user&q=get%20/api/v1/products&service=inventory&errors=true&minMs=50'), [user]);
    assert.deepEqual(await search('kind=user&minMs=100'), []);

    const waterfall = (await (await fetch(`${shown.url}/traces/${user}`)).json()) as Waterfall;
    assert.equal(waterfall.root, 'gateway GET /api/v1/products');
    assert.equal(waterfall.kind, 'user');
    assert.deepEqual(waterfall.spans.map((s) => [s.depth, s.service, s.name]), [[0, 'gateway', 'GET /api/v1/products'], [1, 'gateway', 'GET'], [2, 'inventory', 'GET /v1/products']]);
    assert.equal(waterfall.spans[1]?.attributes['http.request.resend_count'], 1);
    assert.deepEqual(waterfall.spans[1]?.events.map((e) => [e.name, e.attributes.attempt]), [['baton.retry', 1]]);

    const unknown = await fetch(`${shown.url}/traces/${id('d', 32)}`);
    assert.equal(unknown.status, 404, await unknown.clone().text());
    assert.equal((await fetch(`${shown.url}/traces/not-a-trace-id`)).status, 400);
    assert.equal((await fetch(`${shown.url}/traces?kind=everything`)).status, 400);
  });

  test('a service\'s spans in OTLP protobuf (OpenTelemetry\'s own default, sent by its exporter) reach the trace view', async () => {
    const tracing = createTracing({ service: 'gateway', otlpEndpoint: shown.url, otlpProtocol: 'http/protobuf' });
    const span = tracing.tracer.startSpan('GET /api/v1/products', { kind: SpanKind.SERVER });
    span.end();
    await tracing.shutdown();
    const waterfall = (await (await fetch(`${shown.url}/traces/${span.spanContext().traceId}`)).json()) as Waterfall;
    assert.deepEqual(waterfall.spans.map((s) => [s.service, s.name, s.kind]), [['gateway', 'GET /api/v1/products', 'server']]);
  });

  test('isPersonsRequest: the entry\'s SERVER roots, but not its probes; no CLIENT root, no other service\'s', () => {
    assert.equal(isPersonsRequest({ service: 'gateway', kind: 'server', name: 'GET /api/v1/products' }, 'gateway'), true);
    assert.equal(isPersonsRequest({ service: 'gateway', kind: 'server', name: 'POST /api/v1/orders' }, 'gateway'), true);
    assert.equal(isPersonsRequest({ service: 'gateway', kind: 'server', name: 'GET /' }, 'gateway'), true);
    assert.equal(isPersonsRequest({ service: 'gateway', kind: 'client', name: 'GET' }, 'gateway'), false, 'its own poll');
    assert.equal(isPersonsRequest({ service: 'gateway', kind: 'server', name: 'GET /healthz' }, 'gateway'), false);
    assert.equal(isPersonsRequest({ service: 'gateway', kind: 'server', name: 'GET /readyz' }, 'gateway'), false);
    assert.equal(isPersonsRequest({ service: 'orders', kind: 'server', name: 'POST /v1/orders' }, 'gateway'), false, 'not the entry');
    assert.equal(isPersonsRequest({ service: 'notifications', kind: 'consumer', name: 'handle order.created' }, 'gateway'), false);
  });
});
