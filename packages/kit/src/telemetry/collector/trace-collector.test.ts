import { test } from 'node:test';
import assert from 'node:assert/strict';
import { create, toBinary } from '@bufbuild/protobuf';
import { SpanKind, SpanStatusCode, context, trace } from '@opentelemetry/api';
import { ExportTraceServiceRequestSchema } from '@baton/contracts/opentelemetry/collector/trace/v1';
import { createTracing, otlpProtocols } from '../tracing/tracing.ts';
import { startTraceCollector } from './trace-collector.ts';
import type { TraceSummary, Waterfall } from './trace-store.ts';

for (const otlpProtocol of otlpProtocols) void test(`spans sent over OTLP/HTTP (${otlpProtocol}, by OpenTelemetry's own exporter) come back as a waterfall: parents first, children deeper, links, attributes and status kept`, async (t) => {
  const collector = await startTraceCollector();
  t.after(() => collector.close());
  const front = createTracing({ service: 'front', otlpEndpoint: collector.url, otlpProtocol, exportDelayMs: 10 });
  const back = createTracing({ service: 'back', otlpEndpoint: collector.url, otlpProtocol, exportDelayMs: 10 });

  const root = front.tracer.startSpan('GET /v1/things', { kind: SpanKind.SERVER });
  const rootContext = trace.setSpan(context.active(), root);
  const call = front.tracer.startSpan('GET', { kind: SpanKind.CLIENT }, rootContext);
  const served = back.tracer.startSpan('GET /v1/inner', { kind: SpanKind.SERVER }, trace.setSpan(rootContext, call));
  served.addEvent('baton.retry', { attempt: 1 });
  served.setAttributes({ 'http.response.status_code': 503, 'baton.upstream': 'inner', 'baton.hedge': true, 'baton.weight': 0.5, 'baton.tags': ['a', 'b'] });
  served.setStatus({ code: SpanStatusCode.ERROR, message: 'inner was down' });
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
  assert.deepEqual(waterfall.spans[2]?.events[0]?.attributes, { attempt: 1 });
  assert.deepEqual(waterfall.spans[2]?.attributes, { 'http.response.status_code': 503, 'baton.upstream': 'inner', 'baton.hedge': true, 'baton.weight': 0.5, 'baton.tags': ['a', 'b'] });
  assert.deepEqual(waterfall.spans.map((s) => [s.kind, s.status]), [['server', 'unset'], ['client', 'unset'], ['server', 'error'], ['consumer', 'unset']]);
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
  assert.equal((await post('<spans/>', 'application/xml')).status, 415);

  // Protobuf: bytes that are not the message, and a message whose trace id is 3 bytes long.
  const postBytes = (body: Uint8Array) => fetch(`${collector.url}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body: Buffer.from(body) });
  const garbage = await postBytes(new Uint8Array([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]));
  assert.equal(garbage.status, 400);
  assert.deepEqual((await garbage.json() as { errors: Array<{ field: string }> }).errors.map((e) => e.field), ['body']);
  const shortId = await postBytes(toBinary(ExportTraceServiceRequestSchema, create(ExportTraceServiceRequestSchema, {
    resourceSpans: [{ scopeSpans: [{ spans: [{ traceId: new Uint8Array([1, 2, 3]), spanId: new Uint8Array(8).fill(1), name: 'n', startTimeUnixNano: 1n, endTimeUnixNano: 2n }] }] }],
  })));
  assert.equal(shortId.status, 400);
  assert.match(shortId.headers.get('content-type') ?? '', /application\/problem\+json/);
  assert.deepEqual((await shortId.json() as { errors: Array<{ field: string }> }).errors.map((e) => e.field), ['resourceSpans.0.scopeSpans.0.spans.0.traceId']);

  // An attribute nested without end (a JSON array in an array, 5,000 deep; the same in protobuf)
  // is refused at its first array in an array, never recursed through.
  const span = (value: string) => `{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"${'01'.repeat(16)}","spanId":"${'02'.repeat(8)}","name":"n","startTimeUnixNano":"1","endTimeUnixNano":"2","attributes":[{"key":"k","value":${value}}]}]}]}]}`;
  const deepJson = await post(span(`${'{"arrayValue":{"values":['.repeat(5_000)}{"stringValue":"x"}${']}}'.repeat(5_000)}`));
  assert.equal(deepJson.status, 400);
  assert.deepEqual((await deepJson.json() as { errors: Array<{ field: string }> }).errors.map((e) => e.field), ['resourceSpans.0.scopeSpans.0.spans.0.attributes.0.value.arrayValue.values.0.arrayValue']);
  const nestedProtobuf = await postBytes(toBinary(ExportTraceServiceRequestSchema, create(ExportTraceServiceRequestSchema, {
    resourceSpans: [{ scopeSpans: [{ spans: [{
      traceId: new Uint8Array(16).fill(1), spanId: new Uint8Array(8).fill(2), name: 'n', startTimeUnixNano: 1n, endTimeUnixNano: 2n,
      attributes: [{ key: 'k', value: { value: { case: 'arrayValue', value: { values: [{ value: { case: 'arrayValue', value: { values: [] } } }] } } } }],
    }] }] }],
  })));
  assert.equal(nestedProtobuf.status, 400);
  assert.deepEqual((await nestedProtobuf.json() as { errors: Array<{ field: string }> }).errors.map((e) => e.field), ['resourceSpans.0.scopeSpans.0.spans.0.attributes.0.value.arrayValue.values.0.arrayValue']);
  // A flat array is an attribute like any other.
  assert.equal((await post(span('{"arrayValue":{"values":[{"stringValue":"a"},{"intValue":"2"}]}}'))).status, 200);
  assert.equal(collector.store.receivedSpans, 1, 'nothing of a refused request is kept');
  assert.equal((await fetch(`${collector.url}/traces/${'a'.repeat(32)}`)).status, 404);
  assert.equal((await fetch(`${collector.url}/traces/not-an-id`)).status, 400);
});
