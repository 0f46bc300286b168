import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SpanKind, context, trace } from '@opentelemetry/api';
import { createTracing } from '../tracing/tracing.ts';
import { startTraceCollector } from './trace-collector.ts';
import type { TraceSummary, Waterfall } from './trace-store.ts';

void test('spans sent over OTLP/HTTP come back as a waterfall: parents first, children deeper, links kept', async (t) => {
  const collector = await startTraceCollector();
  t.after(() => collector.close());
  const front = createTracing({ service: 'front', otlpEndpoint: collector.url, exportDelayMs: 10 });
  const back = createTracing({ service: 'back', otlpEndpoint: collector.url, exportDelayMs: 10 });

  const root = front.tracer.startSpan('GET /v1/things', { kind: SpanKind.SERVER });
  const rootContext = trace.setSpan(context.active(), root);
  const call = front.tracer.startSpan('GET', { kind: SpanKind.CLIENT }, rootContext);
  const served = back.tracer.startSpan('GET /v1/inner', { kind: SpanKind.SERVER }, trace.setSpan(rootContext, call));
  served.addEvent('baton.retry', { attempt: 1 });
  served.end();
  call.end();
  root.end();
  const consumer = back.tracer.startSpan('handle thing.created', { kind: SpanKind.CONSUMER, links: [{ context: root.spanContext() }] }, rootContext);
  consumer.end();
  await front.shutdown();
  await back.shutdown();

  const traceId = root.spanContext().traceId;
  const listed = await (await fetch(`${collector.url}/traces`)).json() as { traces: TraceSummary[] };
  const summary = listed.traces.find((s) => s.traceId === traceId);
  assert.ok(summary, JSON.stringify(listed));
  assert.deepEqual(summary.services, ['back', 'front']);
  assert.equal(summary.spanCount, 4);
  assert.equal(summary.root, 'front GET /v1/things');

  const waterfall = await (await fetch(`${collector.url}/traces/${traceId}`)).json() as Waterfall;
  assert.deepEqual(waterfall.spans.map((s) => [s.depth, s.service, s.name]), [
    [0, 'front', 'GET /v1/things'],
    [1, 'front', 'GET'],
    [2, 'back', 'GET /v1/inner'],
    [1, 'back', 'handle thing.created'],
  ]);
  assert.deepEqual(waterfall.orphans, []);
  assert.equal(waterfall.spans[2]?.events[0]?.name, 'baton.retry');
  assert.deepEqual(waterfall.spans[3]?.links, [{ traceId, spanId: root.spanContext().spanId }]);
  assert.ok(waterfall.spans.every((s) => s.offsetMs >= 0 && s.durationMs >= 0));
});

void test('bad input is a 4xx problem naming the field; an unknown trace is 404', async (t) => {
  const collector = await startTraceCollector();
  t.after(() => collector.close());
  const post = (body: string, type = 'application/json') => fetch(`${collector.url}/v1/traces`, { method: 'POST', headers: { 'content-type': type }, body });

  const badId = await post(JSON.stringify({ resourceSpans: [{ scopeSpans: [{ spans: [{ traceId: 'xyz', spanId: '00f067aa0ba902b7', name: 'n', startTimeUnixNano: '1', endTimeUnixNano: '2' }] }] }] }));
  assert.equal(badId.status, 400);
  assert.match(badId.headers.get('content-type') ?? '', /application\/problem\+json/);
  const problem = await badId.json() as { errors: Array<{ field: string }> };
  assert.deepEqual(problem.errors.map((e) => e.field), ['resourceSpans.0.scopeSpans.0.spans.0.traceId']);

  assert.equal((await post('{"resourceSpans": [')).status, 400);
  assert.equal((await post('\u0000', 'application/x-protobuf')).status, 415);
  assert.equal((await fetch(`${collector.url}/traces/${'a'.repeat(32)}`)).status, 404);
  assert.equal((await fetch(`${collector.url}/traces/not-an-id`)).status, 400);
});
