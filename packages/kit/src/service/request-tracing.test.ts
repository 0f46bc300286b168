import { once } from 'node:events';
import { connect } from 'node:net';
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { SpanKind, context, propagation } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace';
import { databaseConfigFields, loadConfig, serviceConfigFields, z } from '../config/index.ts';
import { Code, KitError } from '../errors/index.ts';
import { createHttpClient } from '../http/index.ts';
import { createTracing } from '../telemetry/tracing/tracing.ts';
import { addCleanup, createCapturedLogger, createTestDatabase, fixtureMigrationsDir as migrationsDir } from '../testing/index.ts';
import { signalOf, startService, type ServiceDefinition } from './index.ts';

const configSchema = z.object({ ...serviceConfigFields({ name: 'traced', port: 0 }), ...databaseConfigFields() });
type Config = z.output<typeof configSchema>;

/** A traced service on a database of its own; undefined when the test was skipped. */
async function start(t: TestContext, name: string, setup: ServiceDefinition<Config>['setup'], environment: Record<string, string> = {}) {
  const url = await createTestDatabase(t);
  if (url === undefined) return undefined;
  const exporter = new InMemorySpanExporter();
  const captured = createCapturedLogger({ service: name });
  const config = loadConfig(configSchema, { HOST: '127.0.0.1', PORT: '0', DATABASE_URL: url, ...environment });
  const service = await startService({ name, migrationsDir, setup }, config, {
    logger: captured.logger,
    spanProcessors: [new SimpleSpanProcessor({ exporter })],
  });
  addCleanup(t, () => service.shutdown('test over'));
  return { service, spans: () => exporter.getFinishedSpans(), logs: captured.lines };
}

const parentOf = (span: ReadableSpan) => span.parentSpanContext?.spanId;

void test('one request across two services is one trace: server, attempt, server, query spans, and every log line says so', async (t) => {
  let failuresLeft = 1;
  const inner = await start(t, 'inner', (app, { db }) => {
    app.get('/v1/items', async (request) => {
      if (failuresLeft-- > 0) throw new KitError(Code.Unavailable, 'not yet');
      request.log.info('reading items');
      const { rows } = await db.query('select count(*)::int as count from fixture_items', [], { signal: signalOf(request) });
      return rows[0];
    });
  });
  if (inner === undefined) return;
  const outer = await start(t, 'outer', (app, { createHttpClient }) => {
    const client = createHttpClient({ name: 'inner', urls: [inner.service.url], retry: { baseDelayMs: 1 } });
    app.get('/v1/summary', async (request) => {
      request.log.info('asking inner');
      const { body } = await client.request({ method: 'GET', path: '/v1/items', signal: signalOf(request), requestId: request.id });
      return body;
    });
  });
  if (outer === undefined) return;

  const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
  const callerSpanId = '00f067aa0ba902b7';
  const response = await fetch(`${outer.service.url}/v1/summary`, { headers: { traceparent: `00-${traceId}-${callerSpanId}-01` } });
  assert.equal(response.status, 200);
  await response.arrayBuffer();
  assert.match(response.headers.get('traceresponse') ?? '', new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`), 'the answer names its trace');
  // The server spans end when the connection is done with the answer; wait for both.
  for (let i = 0; i < 100 && outer.spans().filter((s) => s.kind === SpanKind.SERVER).length < 1; i++) await new Promise((r) => setTimeout(r, 10));

  const outerServer = outer.spans().find((s) => s.kind === SpanKind.SERVER);
  assert.ok(outerServer, 'outer has a server span');
  assert.equal(outerServer.name, 'GET /v1/summary');
  assert.equal(outerServer.spanContext().traceId, traceId, 'the caller\'s trace continues');
  assert.equal(parentOf(outerServer), callerSpanId);
  assert.equal(outerServer.attributes['http.route'], '/v1/summary');
  assert.equal(outerServer.attributes['http.response.status_code'], 200);

  const attempts = outer.spans().filter((s) => s.kind === SpanKind.CLIENT);
  assert.equal(attempts.length, 2, 'one span per attempt: the failure and the retry');
  for (const attempt of attempts) {
    assert.equal(parentOf(attempt), outerServer.spanContext().spanId);
    assert.equal(attempt.attributes['baton.upstream'], 'inner');
  }
  assert.equal(attempts[0]?.attributes['http.response.status_code'], 503);
  assert.equal(attempts[1]?.attributes['http.request.resend_count'], 1);
  assert.ok(outerServer.events.some((e) => e.name === 'baton.retry'), 'the retry is an event on the request span');

  const innerServers = inner.spans().filter((s) => s.kind === SpanKind.SERVER);
  assert.equal(innerServers.length, 2);
  for (const [index, server] of innerServers.entries()) {
    assert.equal(server.spanContext().traceId, traceId);
    assert.equal(parentOf(server), attempts[index]?.spanContext().spanId, 'each inner span is the child of the attempt that reached it');
  }
  const query = inner.spans().find((s) => s.attributes['db.system.name'] === 'postgresql');
  assert.ok(query, 'the query has a span');
  assert.equal(query.name, 'SELECT');
  assert.equal(parentOf(query), innerServers[1]?.spanContext().spanId);

  for (const [logs, message] of [[outer.logs, 'asking inner'], [inner.logs, 'reading items']] as const) {
    const line = logs.find((l) => l.msg === message);
    assert.equal(line?.trace_id, traceId, `"${message}" carries the trace id`);
    const completed = logs.filter((l) => l.msg === 'request completed' && l.route !== undefined);
    assert.ok(completed.length > 0 && completed.every((l) => l.trace_id === traceId), 'so does the line that closes each request');
  }
});

void test('a caller that leaves before the answer: the line that closes its request still carries the trace id', async (t) => {
  const traced = await start(t, 'leaving', (app) => {
    // Answers only when the caller is gone: the response then closes in a socket callback,
    // outside the request's trace context.
    app.get('/v1/slow', async (request) => {
      const signal = signalOf(request);
      await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
      return {};
    });
  });
  if (traced === undefined) return;
  const traceId = '5cf92f3577b34da6a3ce929d0e0e4737';
  const { port } = new URL(traced.service.url);
  const socket = connect(Number(port), '127.0.0.1');
  await once(socket, 'connect');
  socket.write(`GET /v1/slow HTTP/1.1\r\nhost: 127.0.0.1\r\ntraceparent: 00-${traceId}-00f067aa0ba902b7-01\r\n\r\n`);
  await new Promise((r) => setTimeout(r, 100));
  socket.destroy();
  const closing = () => traced.logs.find((l) => l.msg === 'request completed' && l.route === '/v1/slow');
  for (let i = 0; i < 200 && closing() === undefined; i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(closing()?.status, 499, 'the caller left');
  assert.equal(closing()?.trace_id, traceId);
});

void test('health checks and scrapes are not traced, and tracing off makes no spans at all', async (t) => {
  const traced = await start(t, 'quiet', () => {});
  if (traced === undefined) return;
  await (await fetch(`${traced.service.url}/healthz`)).arrayBuffer();
  await (await fetch(`${traced.service.adminUrl}/metrics`)).arrayBuffer();
  assert.deepEqual(traced.spans(), []);

  const exporter = new InMemorySpanExporter();
  const url = await createTestDatabase(t);
  if (url === undefined) return;
  const config = loadConfig(configSchema, { HOST: '127.0.0.1', PORT: '0', DATABASE_URL: url, OTEL_SDK_DISABLED: 'true' });
  const off = await startService({ name: 'off', migrationsDir, setup: (app) => void app.get('/x', async () => ({})) }, config, {
    logger: createCapturedLogger().logger, spanProcessors: [new SimpleSpanProcessor({ exporter })],
  });
  addCleanup(t, () => off.shutdown('test over'));
  await (await fetch(`${off.url}/x`)).arrayBuffer();
  assert.deepEqual(exporter.getFinishedSpans(), []);
});

void test('a baggage entry the caller set reaches the callee, and the callee\'s callee, over HTTP', async (t) => {
  const tenant = () => propagation.getActiveBaggage()?.getEntry('tenant')?.value ?? 'none';
  const inner = await start(t, 'inner', (app) => {
    app.get('/v1/tenant', async () => ({ inner: tenant() }));
  });
  if (inner === undefined) return;
  const outer = await start(t, 'outer', (app, { createHttpClient: clientTo }) => {
    const client = clientTo({ name: 'inner', urls: [inner.service.url] });
    app.get('/v1/tenant', async (request) => {
      const { body } = await client.request<{ inner: string }>({ method: 'GET', path: '/v1/tenant', signal: signalOf(request) });
      return { outer: tenant(), ...body };
    });
  });
  if (outer === undefined) return;

  // The caller is a kit HTTP client outside any service, with the entry in its active context.
  const tracing = createTracing({ service: 'caller' });
  t.after(() => tracing.shutdown());
  const caller = createHttpClient({ name: 'outer', urls: [outer.service.url], tracer: tracing.tracer });
  t.after(() => caller.close());
  const ask = () => caller.request<{ outer: string; inner: string }>({ method: 'GET', path: '/v1/tenant', signal: AbortSignal.timeout(10_000) });
  const withBaggage = propagation.setBaggage(context.active(), propagation.createBaggage({ tenant: { value: 'acme' } }));

  assert.deepEqual((await context.with(withBaggage, ask)).body, { outer: 'acme', inner: 'acme' });
  assert.deepEqual((await ask()).body, { outer: 'none', inner: 'none' }, 'a call made without it carries none');
});

void test('a public entry (TRUST_INBOUND_TRACE_CONTEXT=false) starts its own trace, links the one it was sent, drops its baggage, and still propagates to the services behind it', async (t) => {
  const tenant = () => propagation.getActiveBaggage()?.getEntry('tenant')?.value ?? 'none';
  const inner = await start(t, 'inner', (app) => {
    app.get('/v1/tenant', async () => ({ inner: tenant() }));
  });
  if (inner === undefined) return;
  const entry = await start(t, 'entry', (app, { createHttpClient: clientTo }) => {
    const client = clientTo({ name: 'inner', urls: [inner.service.url] });
    app.get('/v1/tenant', async (request) => {
      const { body } = await client.request<{ inner: string }>({ method: 'GET', path: '/v1/tenant', signal: signalOf(request) });
      return { outer: tenant(), ...body };
    });
  }, { TRUST_INBOUND_TRACE_CONTEXT: 'false' });
  if (entry === undefined) return;

  const forgedTraceId = '4bf92f3577b34da6a3ce929d0e0e4736';
  const forgedSpanId = '00f067aa0ba902b7';
  const response = await fetch(`${entry.service.url}/v1/tenant`, {
    headers: { traceparent: `00-${forgedTraceId}-${forgedSpanId}-01`, baggage: 'tenant=forged' },
  });
  assert.equal(response.status, 200);
  assert.deepEqual(await response.json(), { outer: 'none', inner: 'none' }, 'the baggage from outside went nowhere');
  for (let i = 0; i < 100 && (entry.spans().every((s) => s.kind !== SpanKind.SERVER) || inner.spans().every((s) => s.kind !== SpanKind.SERVER)); i++) {
    await new Promise((r) => setTimeout(r, 10));
  }
  const entryServer = entry.spans().find((s) => s.kind === SpanKind.SERVER);
  const innerServer = inner.spans().find((s) => s.kind === SpanKind.SERVER);
  assert.ok(entryServer && innerServer);
  assert.notEqual(entryServer.spanContext().traceId, forgedTraceId, 'the entry started a trace of its own');
  assert.equal(parentOf(entryServer), undefined, 'the entry\'s span is a root');
  assert.deepEqual(entryServer.links.map((l) => [l.context.traceId, l.context.spanId]), [[forgedTraceId, forgedSpanId]], 'the trace it was sent is a link');
  assert.match(response.headers.get('traceresponse') ?? '', new RegExp(`^00-${entryServer.spanContext().traceId}-`));
  assert.equal(innerServer.spanContext().traceId, entryServer.spanContext().traceId, 'between services the context still propagates');
});
