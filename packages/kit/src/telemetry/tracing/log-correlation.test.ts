import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SpanKind } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace';
import { databaseConfigFields, loadConfig, serviceConfigFields, z } from '../../config/index.ts';
import { startService } from '../../service/index.ts';
import { addCleanup, createCapturedLogger, createTestDatabase, fixtureMigrationsDir as migrationsDir } from '../../testing/index.ts';

const configSchema = z.object({ ...serviceConfigFields({ name: 'logged', port: 0 }), ...databaseConfigFields() });

void test('inside a traced request every log line carries the trace_id and span_id of the span active where it was written', async (t) => {
  const exporter = new InMemorySpanExporter();
  const captured = createCapturedLogger({ service: 'logged' });
  const url = await createTestDatabase(t);
  if (url === undefined) return;
  const config = loadConfig(configSchema, { HOST: '127.0.0.1', PORT: '0', DATABASE_URL: url });
  const service = await startService({
    name: 'logged',
    migrationsDir,
    setup(app, { tracer }) {
      app.get('/v1/work', async (request) => {
        request.log.info({ step: 'handler' }, 'working');
        await tracer.startActiveSpan('pack parcel', async (span) => {
          request.log.info({ step: 'child' }, 'packing');
          span.end();
        });
        return { done: true };
      });
    },
  }, config, { logger: captured.logger, spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  addCleanup(t, () => service.shutdown('test over'));
  captured.logger.info({ step: 'outside' }, 'between requests');

  const traceId = '0af7651916cd43dd8448eb211c80319c';
  const send = async (flags: '01' | '00') => {
    const response = await fetch(`${service.url}/v1/work`, { headers: { traceparent: `00-${traceId}-b7ad6b7169203331-${flags}` } });
    assert.equal(response.status, 200);
    await response.arrayBuffer();
    return response.headers.get('x-request-id');
  };
  const requestId = await send('01');
  // The server span ends once the answer is handed to the socket, just after fetch resolves.
  for (let i = 0; i < 200 && !exporter.getFinishedSpans().some((s) => s.kind === SpanKind.SERVER); i++) await new Promise((r) => setTimeout(r, 10));
  const server = exporter.getFinishedSpans().find((s) => s.kind === SpanKind.SERVER);
  const child = exporter.getFinishedSpans().find((s) => s.name === 'pack parcel');
  assert.ok(server && child, 'the request and the handler\'s own span were traced');
  assert.equal(child.parentSpanContext?.spanId, server.spanContext().spanId);

  const lines = captured.lines.filter((line) => line.request_id === requestId);
  const byStep = (step: string) => lines.find((line) => line.step === step);
  assert.deepEqual([byStep('handler')?.trace_id, byStep('handler')?.span_id], [traceId, server.spanContext().spanId], 'the handler\'s line: the request span');
  assert.deepEqual([byStep('child')?.trace_id, byStep('child')?.span_id], [traceId, child.spanContext().spanId], 'a line inside a child span: that span');
  const completed = lines.find((line) => line.msg === 'request completed');
  assert.deepEqual([completed?.trace_id, completed?.span_id], [traceId, server.spanContext().spanId], 'the line that closes the request');
  const outside = captured.lines.find((line) => line.step === 'outside');
  assert.ok(outside, 'the line outside any request was written');
  assert.equal(outside.trace_id, undefined, 'no span, no trace id');
  assert.equal(outside.span_id, undefined);

  // A caller that did not sample its trace: nothing is kept, but the lines still carry the ids
  // the caller propagated, so the lines of one request join up across services all the same.
  const unsampledId = await send('00');
  const unsampled = captured.lines.filter((line) => line.request_id === unsampledId && line.step === 'handler');
  assert.equal(unsampled.length, 1);
  assert.equal(unsampled[0]?.trace_id, traceId);
  assert.match(String(unsampled[0]?.span_id), /^[0-9a-f]{16}$/);
});
