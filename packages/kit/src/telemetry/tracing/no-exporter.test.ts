import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { trace } from '@opentelemetry/api';
import { databaseConfigFields, loadConfig, serviceConfigFields, z } from '../../config/index.ts';
import { signalOf, startService, type ServiceDefinition } from '../../service/index.ts';
import { addCleanup, createCapturedLogger, createTestDatabase, fixtureMigrationsDir as migrationsDir } from '../../testing/index.ts';

// No OTLP endpoint and no processor: nothing listens for spans. None is recorded, yet the trace
// context flows as before: a caller's traceparent reaches the callees, a request that came with
// none starts a trace all the same, and log lines carry its id.

const configSchema = z.object({ ...serviceConfigFields({ name: 'quiet', port: 0 }), ...databaseConfigFields() });
type Config = z.output<typeof configSchema>;

async function start(t: TestContext, name: string, setup: ServiceDefinition<Config>['setup'], environment: Record<string, string> = {}) {
  const url = await createTestDatabase(t);
  if (url === undefined) return undefined;
  const captured = createCapturedLogger({ service: name });
  const config = loadConfig(configSchema, { HOST: '127.0.0.1', PORT: '0', DATABASE_URL: url, ...environment });
  const service = await startService({ name, migrationsDir, setup }, config, { logger: captured.logger });
  addCleanup(t, () => service.shutdown('test over'));
  return { service, logs: captured.lines };
}

const recording = () => trace.getActiveSpan()?.isRecording();

void test('with no exporter no span is recorded, but traceparent still goes in and out and logs carry the trace id', async (t) => {
  const inner = await start(t, 'inner', (app) => {
    app.get('/v1/seen', async (request) => ({ traceparent: request.headers.traceparent, recording: recording() }));
  });
  if (inner === undefined) return;
  const outer = await start(t, 'outer', (app, { createHttpClient: clientTo, db }) => {
    const client = clientTo({ name: 'inner', urls: [inner.service.url] });
    app.get('/v1/relay', async (request) => {
      request.log.info({ step: 'relay' }, 'relaying');
      const inTransaction = await db.transaction(async () => recording());
      const { body } = await client.request<{ traceparent: string; recording: boolean }>({ method: 'GET', path: '/v1/seen', signal: signalOf(request) });
      return { inner: body, recording: recording(), inTransaction };
    });
  });
  if (outer === undefined) return;
  assert.equal(outer.service.tracing.recording, false, 'nothing listens');

  const relay = async (traceparent?: string) => {
    const response = await fetch(`${outer.service.url}/v1/relay`, { headers: traceparent === undefined ? {} : { traceparent } });
    assert.equal(response.status, 200);
    const body = await response.json() as { inner: { traceparent: string; recording: boolean }; recording: boolean; inTransaction: boolean | undefined };
    return { ...body, traceresponse: response.headers.get('traceresponse'), requestId: response.headers.get('x-request-id') };
  };

  // A caller's sampled trace: passed on as it came, so a callee that does record joins the caller's span.
  const sampled = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
  const under = await relay(sampled);
  assert.equal(under.recording, false, 'the request span records nothing');
  assert.notEqual(under.inTransaction, true, 'nor does anything under it');
  assert.equal(under.inner.recording, false);
  assert.equal(under.inner.traceparent, sampled, 'the callee was sent the caller\'s context, flag included');
  assert.equal(under.traceresponse, sampled, 'and the caller is told its trace id');
  const line = outer.logs.find((l) => l.request_id === under.requestId && l.step === 'relay');
  assert.equal(line?.trace_id, '0af7651916cd43dd8448eb211c80319c', 'the log line carries the caller\'s trace id');

  // No caller context: a trace of its own, not sampled, still propagated and logged.
  const root = await relay();
  const traceId = /^00-([0-9a-f]{32})-[0-9a-f]{16}-00$/.exec(root.traceresponse ?? '')?.[1];
  assert.ok(traceId !== undefined && traceId !== '0'.repeat(32), `a new trace, not sampled: ${root.traceresponse}`);
  assert.match(root.inner.traceparent, new RegExp(`^00-${traceId}-[0-9a-f]{16}-00$`), 'the callee continues it');
  assert.equal(outer.logs.find((l) => l.request_id === root.requestId && l.step === 'relay')?.trace_id, traceId);
});

void test('with no exporter, a public entry (TRUST_INBOUND_TRACE_CONTEXT=false) starts a trace of its own whatever it is sent, and passes that one on', async (t) => {
  const inner = await start(t, 'inner', (app) => {
    app.get('/v1/seen', async (request) => ({ traceparent: request.headers.traceparent }));
  });
  if (inner === undefined) return;
  const entry = await start(t, 'entry', (app, { createHttpClient: clientTo }) => {
    const client = clientTo({ name: 'inner', urls: [inner.service.url] });
    app.get('/v1/relay', async (request) => (await client.request({ method: 'GET', path: '/v1/seen', signal: signalOf(request) })).body);
  }, { TRUST_INBOUND_TRACE_CONTEXT: 'false' });
  if (entry === undefined) return;
  const sent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
  const response = await fetch(`${entry.service.url}/v1/relay`, { headers: { traceparent: sent } });
  assert.equal(response.status, 200);
  const { traceparent } = await response.json() as { traceparent: string };
  const traceId = /^00-([0-9a-f]{32})-[0-9a-f]{16}-00$/.exec(response.headers.get('traceresponse') ?? '')?.[1];
  assert.ok(traceId !== undefined && traceId !== '0af7651916cd43dd8448eb211c80319c', `a trace of its own, not sampled: ${response.headers.get('traceresponse')}`);
  assert.match(traceparent, new RegExp(`^00-${traceId}-[0-9a-f]{16}-00$`), 'the service behind it continues the entry\'s trace, not the one sent');
});

