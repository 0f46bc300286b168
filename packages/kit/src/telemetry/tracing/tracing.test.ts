import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Span, SpanProcessor } from '@opentelemetry/sdk-trace';
import { databaseConfigFields, loadConfig, serviceConfigFields, z } from '../../config/index.ts';
import { startService } from '../../service/index.ts';
import { createServiceTelemetry } from '../../service/service-telemetry.ts';
import { addCleanup, createSilentLogger, createTestDatabase, fixtureMigrationsDir as migrationsDir } from '../../testing/index.ts';

// Sampling as an operator configures it: the OpenTelemetry variables, read by the service's
// config and applied by startService. A span the sampler keeps is started on the processors
// before the answer is sent, so counting started spans (not exported ones) cannot miss a span
// that ends a little after the test looked.

const configSchema = z.object({ ...serviceConfigFields({ name: 'sampled', port: 0 }), ...databaseConfigFields() });

const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
const parent = (sampled: boolean) => `00-${traceId}-00f067aa0ba902b7-0${sampled ? 1 : 0}`;

/** A service of its own database, sampling as `env` says; undefined when the test was skipped. */
async function serviceSampling(t: TestContext, env: Record<string, string>) {
  const started: Span[] = [];
  const recorder: SpanProcessor = {
    onStart: (span) => void started.push(span),
    onEnd: () => {},
    forceFlush: async () => {},
    shutdown: async () => {},
  };
  const url = await createTestDatabase(t);
  if (url === undefined) return undefined;
  const config = loadConfig(configSchema, { HOST: '127.0.0.1', PORT: '0', DATABASE_URL: url, ...env });
  const service = await startService({ name: 'sampled', migrationsDir, setup: (app) => void app.get('/v1/ping', async () => ({ pong: true })) }, config, {
    logger: createSilentLogger(), spanProcessors: [recorder],
  });
  addCleanup(t, () => service.shutdown('test over'));
  /** Sends one request (as a root, or under a caller's sampled or unsampled traceparent); says how many spans it started and what the answer said. */
  return async function request(traceparent?: string): Promise<{ spans: number; traceFlags: string | undefined }> {
    const before = started.length;
    const response = await fetch(`${service.url}/v1/ping`, { headers: traceparent === undefined ? {} : { traceparent } });
    assert.equal(response.status, 200);
    await response.arrayBuffer();
    return { spans: started.length - before, traceFlags: /-(0[01])$/.exec(response.headers.get('traceresponse') ?? '')?.[1] };
  };
}

void test('always_off keeps nothing, even under a caller that sampled its trace', async (t) => {
  const request = await serviceSampling(t, { OTEL_TRACES_SAMPLER: 'always_off' });
  if (request === undefined) return;
  assert.deepEqual(await request(), { spans: 0, traceFlags: '00' });
  assert.deepEqual(await request(parent(true)), { spans: 0, traceFlags: '00' }, 'the answer tells the caller it was not kept');
});

void test('traceidratio at 0 keeps no trace it starts; always_on keeps every one, whatever the caller decided', async (t) => {
  const none = await serviceSampling(t, { OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '0' });
  if (none === undefined) return;
  for (let i = 0; i < 5; i++) assert.deepEqual(await none(), { spans: 0, traceFlags: '00' });

  const all = await serviceSampling(t, { OTEL_TRACES_SAMPLER: 'always_on' });
  if (all === undefined) return;
  for (let i = 0; i < 5; i++) assert.deepEqual(await all(), { spans: 1, traceFlags: '01' });
  assert.deepEqual(await all(parent(false)), { spans: 1, traceFlags: '01' }, 'always_on ignores an unsampled parent');
});

void test('parentbased (the default) follows the caller\'s sampled flag, and uses the ratio only for a trace it starts', async (t) => {
  // Ratio 0: a trace this service starts is never kept, so any span below comes from the parent's flag.
  const request = await serviceSampling(t, { OTEL_TRACES_SAMPLER_ARG: '0' });
  if (request === undefined) return;
  assert.deepEqual(await request(parent(true)), { spans: 1, traceFlags: '01' }, 'a sampled parent: kept');
  assert.deepEqual(await request(parent(false)), { spans: 0, traceFlags: '00' }, 'an unsampled parent: dropped');
  assert.deepEqual(await request(), { spans: 0, traceFlags: '00' }, 'a root: the ratio, 0');

  const alwaysOnRoot = await serviceSampling(t, { OTEL_TRACES_SAMPLER: 'parentbased_always_on' });
  if (alwaysOnRoot === undefined) return;
  assert.deepEqual(await alwaysOnRoot(), { spans: 1, traceFlags: '01' }, 'a root: kept');
  assert.deepEqual(await alwaysOnRoot(parent(false)), { spans: 0, traceFlags: '00' }, 'an unsampled parent still wins');
});

void test('parentbased at ratio 1 (the default) keeps every trace it starts and every sampled parent\'s, and drops an unsampled parent\'s', async (t) => {
  const request = await serviceSampling(t, {});
  if (request === undefined) return;
  for (let i = 0; i < 3; i++) assert.deepEqual(await request(), { spans: 1, traceFlags: '01' }, 'a root: the ratio, 1');
  assert.deepEqual(await request(parent(true)), { spans: 1, traceFlags: '01' });
  assert.deepEqual(await request(parent(false)), { spans: 0, traceFlags: '00' });
});

void test('a sampler name or ratio outside the specification stops the service at start, naming the variable', () => {
  assert.throws(() => loadConfig(configSchema, { OTEL_TRACES_SAMPLER: 'sometimes', OTEL_TRACES_SAMPLER_ARG: '2' }), (error: Error) => {
    assert.match(error.message, /OTEL_TRACES_SAMPLER/);
    assert.match(error.message, /OTEL_TRACES_SAMPLER_ARG/);
    return true;
  });
});

void test('spans go out in JSON by default (the cheaper to make), in protobuf with OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf; anything else stops the service at start', async (t) => {
  const received: string[] = [];
  const receiver = createServer((request, response) => {
    received.push(`${request.method} ${request.url} ${request.headers['content-type']}`);
    request.resume().on('end', () => response.writeHead(200).end());
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  t.after(() => receiver.close());
  const endpoint = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  for (const [env, type] of [[{}, 'application/json'], [{ OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf' }, 'application/x-protobuf']] as const) {
    const config = loadConfig(z.object(serviceConfigFields({ name: 'encoded', port: 0 })), { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, ...env });
    const { tracing } = createServiceTelemetry('encoded', config, { logger: createSilentLogger() });
    tracing.tracer.startSpan('one').end();
    await tracing.shutdown();
    assert.equal(received.pop(), `POST /v1/traces ${type}`);
  }
  assert.throws(() => loadConfig(z.object(serviceConfigFields({ name: 'encoded', port: 0 })), { OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }), /OTEL_EXPORTER_OTLP_PROTOCOL/);
});
