import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { databaseConfigFields, loadConfig, serviceConfigFields, z } from '../config/index.ts';
import { Code } from '../errors/index.ts';
import type { HttpClient } from '../http/index.ts';
import { durationBucketsSeconds } from '../telemetry/metrics.ts';
import {
  addCleanup, createCapturedLogger, createSuiteDatabase, createSuiteScope, createTestDatabase, fixtureMigrationsDir, metricValue, parseMetrics, type CleanupScope, type LogLine,
} from '../testing/index.ts';
import { startService, type ServiceDefinition, type StatelessServiceDefinition } from './index.ts';

const configSchema = z.object({ ...serviceConfigFields({ name: 'kit-test', port: 0 }), ...databaseConfigFields() });
type Config = z.output<typeof configSchema>;

// Internal detail a failing handler carries: none of it may reach a caller.
const internalMessage = 'connect ECONNREFUSED 10.9.8.7:5432 while reading /srv/baton/secret-path.ts';

const definition: ServiceDefinition<Config> = {
  name: 'kit-test',
  migrationsDir: fixtureMigrationsDir,
  setup(app) {
    app.get('/ok', async function ok(request) {
      request.log.info('inside the handler');
      return { ok: true };
    });
    app.get('/throw-sync', function throwSync() {
      throw new Error(internalMessage);
    });
    app.get('/throw-async', async function throwAsync() {
      await Promise.resolve();
      throw new Error(internalMessage);
    });
    app.post('/echo', async function echo(request) {
      return { received: request.body };
    });
    app.post('/orders', {
      schema: { body: z.object({ sku: z.string().min(1), quantity: z.number().int().positive() }).strict() },
    }, async function placeOrder(request) {
      return { accepted: request.body };
    });
  },
};

/** The test service on the database `environment` names, or else on a fresh one of its own (see createSuiteDatabase). */
async function startTestService(t: CleanupScope, environment: Record<string, string> = {}) {
  const databaseUrl = environment.DATABASE_URL ?? await createSuiteDatabase(t);
  const captured = createCapturedLogger({ service: 'kit-test' });
  const config = loadConfig(configSchema, { HOST: '127.0.0.1', PORT: '0', ...environment, DATABASE_URL: databaseUrl });
  const service = await startService(definition, config, { logger: captured.logger });
  addCleanup(t, () => service.shutdown('test over'));
  return { service, base: service.url, logs: captured.lines };
}

interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  reason?: string;
  request_id?: string;
  errors?: Array<{ field: string; message: string }>;
}

async function readProblem(response: Response): Promise<ProblemBody> {
  assert.match(response.headers.get('content-type') ?? '', /^application\/problem\+json/);
  return await response.json() as ProblemBody;
}

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Sends one GET on a raw socket and resolves with the whole answer once its body has arrived. */
function rawGet(socket: Socket, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let received = '';
    const onData = (chunk: Buffer) => {
      received += chunk.toString('latin1');
      const headerEnd = received.indexOf('\r\n\r\n');
      if (headerEnd === -1) return;
      const length = Number(/\r\ncontent-length: *(\d+)/i.exec(received.slice(0, headerEnd))?.[1] ?? 0);
      if (received.length < headerEnd + 4 + length) return;
      socket.off('data', onData);
      resolve(received);
    };
    socket.on('data', onData);
    socket.once('error', reject);
    socket.write(`GET ${path} HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n`);
  });
}

void describe('startService', () => {
  // One service serves the tests that only send requests; each test reads back only what its
  // own requests produced (its request ids, its metric deltas).
  const suite = createSuiteScope();
  let shared: Awaited<ReturnType<typeof startTestService>>;
  before(async () => {
    shared = await startTestService(suite);
  });
  void test('applies the migrations and serves the routes of the definition', async () => {
    const { service, base } = shared;
    const { rows } = await service.db.query<{ table_name: string }>(
      `select table_name from information_schema.tables where table_name = 'fixture_items'`);
    assert.equal(rows.length, 1);
    const response = await fetch(`${base}/ok`);
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { ok: true });
  });

  for (const route of ['/throw-sync', '/throw-async']) {
    void test(`a handler that throws (${route}) answers 500 with a problem that leaks nothing, and logs the error`, async () => {
      const { base, logs } = shared;
      const response = await fetch(`${base}${route}`);
      assert.equal(response.status, 500);
      const text = await response.clone().text();
      const problem = await readProblem(response);
      assert.equal(problem.status, 500);
      assert.equal(problem.code, 'internal');
      assert.equal(problem.type, 'urn:baton:problem:internal');
      assert.equal(problem.title, 'Internal error');
      assert.equal(problem.detail, 'internal error');
      for (const leak of ['ECONNREFUSED', '10.9.8.7', 'secret-path', '.ts', 'stack', 'Error:', '/srv/', import.meta.dirname]) {
        assert.ok(!text.includes(leak), `the answer contains ${JSON.stringify(leak)}: ${text}`);
      }

      const requestId = response.headers.get('x-request-id');
      assert.equal(problem.request_id, requestId);
      const logged = logs.find((line) => line.level === 'error' && line.request_id === requestId);
      assert.ok(logged, 'the error is logged with the request id');
      assert.equal(logged.err?.message, internalMessage);
      assert.match(logged.err?.stack ?? '', /start-service\.test\.ts/);

      const next = await fetch(`${base}/ok`);
      assert.equal(next.status, 200, 'the service still answers after a failing handler');
    });
  }

  void test('a safe X-Request-ID is echoed and labels every log line of that request', async () => {
    const { base, logs } = shared;
    const given = 'checkout-7f3a.1:retry-2';
    const response = await fetch(`${base}/ok`, { headers: { 'x-request-id': given } });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('x-request-id'), given);
    const lines = logs.filter((line) => line.request_id === given);
    assert.deepEqual(lines.map((line) => line.msg).sort(), ['inside the handler', 'request completed']);
    const completed = lines.find((line) => line.msg === 'request completed') as LogLine;
    assert.equal(completed.route, '/ok');
    assert.equal(completed.status, 200);
  });

  void test('a missing or unsafe X-Request-ID is replaced by a generated one', async () => {
    const { base, logs } = shared;
    const unsafe = ['x'.repeat(300), 'has a space', 'semi;colon', 'quote"d'];
    const seen = new Set<string>();
    for (const given of [undefined, ...unsafe]) {
      const response = await fetch(`${base}/ok`, given === undefined ? {} : { headers: { 'x-request-id': given } });
      assert.equal(response.status, 200);
      const id = response.headers.get('x-request-id') ?? '';
      assert.match(id, uuid, `a generated id replaced ${JSON.stringify(given)}`);
      assert.ok(!seen.has(id), 'every generated id is new');
      seen.add(id);
      assert.ok(logs.some((line) => line.request_id === id && line.msg === 'request completed'));
    }
    const logText = JSON.stringify(logs);
    for (const given of unsafe) assert.ok(!logText.includes(given), `${given.slice(0, 20)} reached the logs`);
  });

  void test('/metrics, on the admin listener, is Prometheus text with request counts, durations, in-flight requests, event loop and process', async () => {
    const { base, service } = shared;
    const scrape = async () => {
      const response = await fetch(`${service.adminUrl}/metrics`);
      assert.equal(response.status, 200);
      assert.match(response.headers.get('content-type') ?? '', /^text\/plain/);
      return parseMetrics(await response.text());
    };
    const okSeries = { method: 'GET', route: '/ok', status_code: '200' };
    const failedSeries = { method: 'GET', route: '/throw-async', status_code: '500' };
    const before = await scrape();
    const okBefore = metricValue(before, 'http_server_requests_total', okSeries);
    const failedBefore = metricValue(before, 'http_server_requests_total', failedSeries);

    for (let i = 0; i < 7; i++) assert.equal((await fetch(`${base}/ok`)).status, 200);
    for (let i = 0; i < 3; i++) assert.equal((await fetch(`${base}/throw-async`)).status, 500);

    // A request is counted when its response closes, which can trail the client's read a little.
    let after = await scrape();
    for (let attempt = 0; attempt < 100 && metricValue(after, 'http_server_requests_total', okSeries) - okBefore < 7; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      after = await scrape();
    }
    assert.equal(metricValue(after, 'http_server_requests_total', okSeries) - okBefore, 7);
    assert.equal(metricValue(after, 'http_server_requests_total', failedSeries) - failedBefore, 3);
    assert.equal(after.get('http_server_requests_total')?.type, 'COUNTER');

    const duration = after.get('http_server_request_duration_seconds');
    assert.equal(duration?.type, 'HISTOGRAM');
    const bounds = Object.keys(duration.metrics[0]?.buckets ?? {}).filter((le) => le !== '+Inf').map(Number).sort((a, b) => a - b);
    assert.deepEqual(bounds, durationBucketsSeconds);

    const active = after.get('http_server_active_requests');
    assert.equal(active?.type, 'GAUGE');
    // Nothing is in flight: the scrape is on the admin listener, which does not count its own requests.
    assert.equal(metricValue(after, 'http_server_active_requests', { method: 'GET' }), 0);

    assert.equal(after.get('nodejs_eventloop_lag_seconds')?.type, 'GAUGE');
    assert.ok(metricValue(after, 'nodejs_eventloop_lag_seconds') >= 0);
    assert.ok(metricValue(after, 'process_resident_memory_bytes') > 0);
    assert.ok(metricValue(after, 'process_cpu_user_seconds_total') > 0);
    assert.ok(metricValue(after, 'process_start_time_seconds') > 0);
  });

  void test('/healthz and /readyz answer 200, and /readyz stops once shutdown begins', async (t) => {
    // The drain delay keeps the listener open after readiness turns false, as behind a load balancer.
    const url = await createTestDatabase(t);
    if (url === undefined) return;
    const { service, base } = await startTestService(t, { DATABASE_URL: url, SHUTDOWN_DRAIN_DELAY_MS: '1000' });
    const health = await fetch(`${base}/healthz`);
    assert.equal(health.status, 200);
    const ready = await fetch(`${base}/readyz`);
    assert.equal(ready.status, 200);
    assert.deepEqual(await ready.json(), { status: 'ready', checks: { database: 'ok' } });

    const stopping = service.shutdown('test');
    const draining = await fetch(`${base}/readyz`);
    assert.equal(draining.status, 503);
    assert.equal((await draining.json() as { status: string }).status, 'shutting_down');
    assert.deepEqual(await stopping, { clean: true });
    await assert.rejects(fetch(`${base}/readyz`), 'nothing listens after shutdown');
  });

  void test('shutdown closes an idle keep-alive connection, then runs the closers: the service\'s own, its clients\', its database', async (t) => {
    const url = await createTestDatabase(t);
    if (url === undefined) return;
    const closersRan: string[] = [];
    let connectionsAtClose: number | undefined;
    let client: HttpClient | undefined;
    const withResources: ServiceDefinition<Config> = {
      ...definition,
      async setup(app, context) {
        await definition.setup(app, context);
        client = context.createHttpClient({ name: 'elsewhere', urls: ['http://127.0.0.1:9'] });
        context.onClose(async function ownCloser() {
          connectionsAtClose = await new Promise<number>((resolve, reject) => app.server.getConnections((error, count) => (error ? reject(error) : resolve(count))));
          closersRan.push('own closer');
        });
      },
    };
    const config = loadConfig(configSchema, { HOST: '127.0.0.1', PORT: '0', DATABASE_URL: url });
    const service = await startService(withResources, config, { logger: createCapturedLogger({ service: 'kit-test' }).logger });
    addCleanup(t, () => service.shutdown('test over'));

    const { port } = new URL(service.url);
    const socket = connect(Number(port), '127.0.0.1');
    addCleanup(t, () => socket.destroy());
    await once(socket, 'connect');
    const answer = await rawGet(socket, '/ok');
    assert.match(answer, /^HTTP\/1\.1 200 /);
    assert.doesNotMatch(answer, /\r\nconnection: *close/i, 'answered before shutdown, the connection is kept alive');
    // The socket is now idle: open, with no request on it. Only the server can end it here.
    const ended = once(socket, 'end');

    const result = await service.shutdown('test');
    // Without closing it, the shutdown would wait out SHUTDOWN_TIMEOUT_MS and cut it: not clean.
    assert.deepEqual(result, { clean: true });
    await ended;
    assert.equal(connectionsAtClose, 0, 'the closers ran after every connection was closed');
    assert.deepEqual(closersRan, ['own closer']);
    await assert.rejects(client!.request({ method: 'GET', path: '/', signal: AbortSignal.timeout(1_000) }), { code: Code.Unavailable, reason: 'client_closed' });
    await assert.rejects(service.db.query('select 1'), 'the database is closed');
  });

  void describe('bad input is answered with a 4xx problem, never a 5xx', () => {
    const post = (base: string, path: string, body: string, contentType = 'application/json') =>
      fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': contentType }, body });

    void test('malformed JSON → 400 naming the body', async () => {
      const { base } = shared;
      const response = await post(base, '/echo', '{"sku": "A-1",');
      assert.equal(response.status, 400);
      const problem = await readProblem(response);
      assert.equal(problem.code, 'invalid_argument');
      assert.deepEqual(problem.errors?.map((e) => e.field), ['body']);
    });

    void test('wrong types → 400 naming each field', async () => {
      const { base } = shared;
      const response = await post(base, '/orders', JSON.stringify({ sku: 5, quantity: 'two' }));
      assert.equal(response.status, 400);
      const problem = await readProblem(response);
      assert.equal(problem.code, 'invalid_argument');
      assert.deepEqual(problem.errors?.map((e) => e.field).sort(), ['body.quantity', 'body.sku']);

      const accepted = await post(base, '/orders', JSON.stringify({ sku: 'A-1', quantity: 2 }));
      assert.equal(accepted.status, 200, 'a valid body passes the same schema');
    });

    void test('unknown fields → 400 naming the field', async () => {
      const { base } = shared;
      const response = await post(base, '/orders', JSON.stringify({ sku: 'A-1', quantity: 1, isAdmin: true }));
      assert.equal(response.status, 400);
      const problem = await readProblem(response);
      assert.deepEqual(problem.errors?.map((e) => e.field), ['body.isAdmin']);
    });

    void test('a 2 MB body → 413', async () => {
      const { base } = shared;
      const response = await post(base, '/echo', JSON.stringify({ padding: 'x'.repeat(2 * 1024 * 1024) }));
      assert.equal(response.status, 413);
      const problem = await readProblem(response);
      assert.equal(problem.code, 'resource_exhausted');
      assert.equal(problem.reason, 'body_too_large');
    });

    void test('a client still sending a body too large reads the 413 instead of a broken pipe', async () => {
      const { base } = shared;
      // The headers announce 4 MB, so the server refuses at once; the body follows later. The
      // server must read and drop it before answering: if it closed instead, these writes
      // would fail with EPIPE or a reset and the 413 would never be read.
      const { hostname, port } = new URL(base);
      const socket = connect(Number(port), hostname);
      await once(socket, 'connect');
      socket.on('error', () => {}); // A reset shows as a short write below.
      const received: Buffer[] = [];
      socket.on('data', (data: Buffer) => received.push(data));
      const answer = once(socket, 'end').then(() => Buffer.concat(received).toString());
      const bodyBytes = 4 * 1024 * 1024;
      socket.write(`POST /echo HTTP/1.1\r\nhost: ${hostname}\r\ncontent-type: application/json\r\ncontent-length: ${bodyBytes}\r\n\r\n`);
      await new Promise((resolve) => setTimeout(resolve, 200));
      const closed = once(socket, 'close');
      const chunk = Buffer.alloc(64 * 1024, 120);
      let sentBytes = 0;
      while (sentBytes < bodyBytes && !socket.destroyed) {
        sentBytes += chunk.length;
        if (!socket.write(chunk)) await Promise.race([once(socket, 'drain'), closed]);
      }
      assert.equal(sentBytes, bodyBytes, 'the server let the whole body arrive');
      const text = await answer;
      assert.match(text, /^HTTP\/1\.1 413 /);
      assert.match(text, /"reason":"body_too_large"/);
    });

    void test('an unaccepted content type → 415', async () => {
      const { base } = shared;
      const response = await post(base, '/echo', 'sku=A-1', 'application/x-www-form-urlencoded');
      assert.equal(response.status, 415);
      assert.equal((await readProblem(response)).reason, 'unsupported_media_type');
    });

    void test('an unknown route → 404', async () => {
      const { base } = shared;
      const response = await fetch(`${base}/no/such/route?x=1`);
      assert.equal(response.status, 404);
      const problem = await readProblem(response);
      assert.equal(problem.code, 'not_found');
      assert.equal(problem.detail, 'no route for GET /no/such/route');
    });
  });
});

void test('a stateless service (no migrationsDir) opens no database: its context has no db, /readyz probes none, /metrics has no pool', async (t) => {
  const statelessSchema = z.object(serviceConfigFields({ name: 'kit-stateless', port: 0 }));
  let handed: object | undefined;
  const stateless: StatelessServiceDefinition<z.output<typeof statelessSchema>> = {
    name: 'kit-stateless',
    setup(app, context) {
      handed = context;
      app.get('/ok', async () => ({ ok: true }));
    },
  };
  const config = loadConfig(statelessSchema, { HOST: '127.0.0.1', PORT: '0' });
  const service = await startService(stateless, config, { logger: createCapturedLogger({ service: 'kit-stateless' }).logger });
  addCleanup(t, () => service.shutdown('test over'));

  assert.equal(service.db, undefined);
  assert.equal(handed !== undefined && 'db' in handed, false, 'the context it was handed has no db');
  assert.equal((await fetch(`${service.url}/ok`)).status, 200);
  const ready = await fetch(`${service.url}/readyz`);
  assert.deepEqual(await ready.json(), { status: 'ready', checks: {} });
  assert.doesNotMatch(await (await fetch(`${service.adminUrl}/metrics`)).text(), /^baton_db_pool/m);
  assert.deepEqual(await service.shutdown('checked'), { clean: true });
});
