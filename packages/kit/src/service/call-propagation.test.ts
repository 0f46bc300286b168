import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { databaseConfigFields, loadConfig, serviceConfigFields, z } from '../config/index.ts';
import { timeoutHeader } from '../resilience/index.ts';
import { addCleanup, createCapturedLogger, createSilentLogger, createTestDatabase, metricValue, parseMetrics, type CleanupScope, fixtureMigrationsDir } from '../testing/index.ts';
import type { Logger } from '../telemetry/index.ts';
import { signalOf, startService, type ServiceDefinition } from './index.ts';

// A service calling an upstream through the kit, as checkout calls inventory: what the caller
// does to the service (its budget, its disconnect) must reach the upstream.

const configSchema = z.object({ ...serviceConfigFields({ name: 'caller', port: 0 }), ...databaseConfigFields() });

interface Upstream { url: string; seen: Array<{ budget: string | undefined; aborted: boolean; finished: boolean }>; hits: () => number }

async function startUpstream(t: CleanupScope, handle: (req: IncomingMessage, res: ServerResponse) => void): Promise<Upstream> {
  let hits = 0;
  const seen: Upstream['seen'] = [];
  const server: Server = createServer((req, res) => {
    hits += 1;
    const record = { budget: req.headers[timeoutHeader] as string | undefined, aborted: false, finished: false };
    seen.push(record);
    res.on('close', () => { record.aborted = !res.writableFinished; record.finished = res.writableFinished; });
    handle(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  addCleanup(t, () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, seen, hits: () => hits };
}

/** The calling service, on a database of its own; undefined when the test was skipped. */
async function startCaller(t: TestContext, upstreamUrl: string, logger: Logger = createSilentLogger('caller')) {
  const definition: ServiceDefinition<z.output<typeof configSchema>> = {
    name: 'caller',
    migrationsDir: fixtureMigrationsDir,
    setup(app, { createHttpClient }) {
      const upstream = createHttpClient({ name: 'upstream', urls: [upstreamUrl], breaker: { consecutiveFailures: 3, openDurationMs: 60_000 }, retry: { maxAttempts: 1 } });
      app.get('/checkout', async (request) => (await upstream.request({ method: 'GET', path: '/work', signal: signalOf(request), requestId: request.id })).body);
    },
  };
  const url = await createTestDatabase(t);
  if (url === undefined) return undefined;
  const config = loadConfig(configSchema, { HOST: '127.0.0.1', PORT: '0', DATABASE_URL: url });
  const service = await startService(definition, config, { logger });
  addCleanup(t, () => service.shutdown('test over'));
  return service;
}

/** A kit service whose one route has a short deadline of its own and works until its signal fires; undefined when the test was skipped. */
async function startLeaf(t: TestContext) {
  const definition: ServiceDefinition<z.output<typeof configSchema>> = {
    name: 'leaf',
    migrationsDir: fixtureMigrationsDir,
    setup(app) {
      app.get('/work', { config: { deadlineMs: 200 } }, async function slowWork(request) {
        const signal = signalOf(request);
        await sleep(60_000, undefined, { signal }).catch(() => {
          throw signal.reason;
        });
        return {};
      });
    },
  };
  const url = await createTestDatabase(t);
  if (url === undefined) return undefined;
  const config = loadConfig(configSchema, { HOST: '127.0.0.1', PORT: '0', DATABASE_URL: url });
  const service = await startService(definition, config, { logger: createSilentLogger('leaf') });
  addCleanup(t, () => service.shutdown('test over'));
  return service;
}

const until = async (condition: () => boolean) => {
  for (let i = 0; i < 400 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 5));
  return condition();
};

test('an upstream that sleeps 5 s behind a 1 s deadline: the caller answers 504 in time and the upstream sees its request aborted', async (t) => {
  const upstream = await startUpstream(t, (_req, res) => { const timer = setTimeout(() => res.end('{}'), 5_000); res.on('close', () => clearTimeout(timer)); });
  const caller = await startCaller(t, upstream.url);
  if (caller === undefined) return;
  const startedAt = performance.now();
  const res = await fetch(`${caller.url}/checkout`, { headers: { [timeoutHeader]: '1000' } });
  const tookMs = performance.now() - startedAt;
  assert.equal(res.status, 504);
  assert.equal(((await res.json()) as { hop: string }).hop, 'caller', 'the problem names the hop whose deadline ran out');
  assert.ok(tookMs < 1_500, `answered within the deadline plus a margin (${Math.round(tookMs)} ms)`);
  assert.ok(await until(() => upstream.seen[0]?.aborted === true), 'the upstream saw its request aborted');
  assert.ok(Number(upstream.seen[0]?.budget) <= 1_000 && Number(upstream.seen[0]?.budget) > 0, `the upstream got the remaining budget (${upstream.seen[0]?.budget})`);
  const metrics = parseMetrics(await (await fetch(`${caller.adminUrl}/metrics`)).text());
  assert.equal(metricValue(metrics, 'baton_deadline_exceeded_total', { hop: 'caller' }), 1);
});

test('a caller that disconnects mid-request aborts the call downstream', async (t) => {
  const upstream = await startUpstream(t, (_req, res) => { const timer = setTimeout(() => res.end('{}'), 5_000); res.on('close', () => clearTimeout(timer)); });
  const caller = await startCaller(t, upstream.url);
  if (caller === undefined) return;
  const leaving = new AbortController();
  const pending = fetch(`${caller.url}/checkout`, { signal: leaving.signal });
  assert.ok(await until(() => upstream.hits() === 1));
  leaving.abort();
  await assert.rejects(pending);
  assert.ok(await until(() => upstream.seen[0]?.aborted === true), 'the upstream saw its request aborted');
  assert.equal(upstream.seen[0]?.finished, false);
});

test('a failing upstream opens the breaker: calls fail fast without the network, and the state is a metric', async (t) => {
  const upstream = await startUpstream(t, (_req, res) => { res.statusCode = 500; res.end('{}'); });
  const caller = await startCaller(t, upstream.url);
  if (caller === undefined) return;
  for (let i = 0; i < 3; i++) assert.equal((await fetch(`${caller.url}/checkout`)).status, 500);
  const hitsWhenOpen = upstream.hits();
  const refused = await fetch(`${caller.url}/checkout`);
  assert.equal(refused.status, 503);
  assert.equal(((await refused.json()) as { reason: string }).reason, 'circuit_open');
  assert.ok(Number(refused.headers.get('retry-after')) >= 1);
  assert.equal(upstream.hits(), hitsWhenOpen, 'the open breaker did not touch the network');
  const metrics = parseMetrics(await (await fetch(`${caller.adminUrl}/metrics`)).text());
  assert.equal(metricValue(metrics, 'baton_client_breaker_state', { upstream: 'upstream', instance: upstream.url }), 2);
  assert.equal(metricValue(metrics, 'baton_client_breaker_transitions_total', { upstream: 'upstream', instance: upstream.url, to: 'open' }), 1);
});

test('an upstream whose own deadline ran out is the hop named by the caller\'s answer, its log line and its metric', async (t) => {
  const leaf = await startLeaf(t);
  if (leaf === undefined) return;
  const captured = createCapturedLogger({ service: 'caller' });
  const caller = await startCaller(t, leaf.url, captured.logger);
  if (caller === undefined) return;
  // The caller's budget is ten seconds; the leaf's route allows itself 200 ms.
  const res = await fetch(`${caller.url}/checkout`);
  assert.equal(res.status, 504);
  assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
  const problem = await res.json() as { code: string; hop: string; request_id: string };
  assert.equal(problem.code, 'deadline_exceeded');
  assert.equal(problem.hop, 'leaf', 'the answer names the hop that ran out, not the one that passed it on');
  const line = captured.lines.find((l) => l.request_id === problem.request_id && l.code === 'deadline_exceeded');
  assert.ok(line, `a log line of the expired request: ${JSON.stringify(captured.lines)}`);
  assert.equal(line.hop, 'leaf');
  const metrics = parseMetrics(await (await fetch(`${caller.adminUrl}/metrics`)).text());
  assert.equal(metricValue(metrics, 'baton_deadline_exceeded_total', { hop: 'leaf' }), 1);
  assert.equal(metricValue(metrics, 'baton_deadline_exceeded_total', { hop: 'caller' }), 0);
});
