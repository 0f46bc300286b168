import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace';
import Fastify, { type FastifyInstance } from 'fastify';
import { request as send } from 'undici';
import type { ServiceTokenVerifier } from '../auth/service-identity/verifier.ts';
import { Code, KitError } from '../errors/index.ts';
import { createAdaptiveLimiter } from '../resilience/index.ts';
import { timeoutHeader } from '../resilience/deadline.ts';
import { createMetrics } from '../telemetry/metrics.ts';
import { createTracing } from '../telemetry/tracing/tracing.ts';
import { metricValue, parseMetrics } from '../testing/index.ts';
import { installErrorHandling } from './error-handler.ts';
import { createLoadShedding } from './load-shedding.ts';
import { installRequestLifecycle } from './request-lifecycle.ts';
import { signalOf } from './request-signal.ts';
import { createRequestTracing } from './request-tracing.ts';

// The lifecycle's promise: one hook and one close listener per request carry the request id,
// the metrics, the closing refusal, the shedding, the caller's check, the span and the deadline,
// in that order. The parts' own rules are tested with them (load-shedding, http-deadline,
// request-tracing, service-identity); this tests what they do together.

// A verifier standing in for the real one (tested in auth/service-identity): one known caller.
const verifier: ServiceTokenVerifier = {
  cached: (token) => (token === 'orders-token' ? 'orders' : undefined),
  verify: async (token) => {
    if (token === 'slow-orders-token') return 'orders';
    throw new KitError(Code.Unauthenticated, 'the service credential is not valid', { reason: 'service_token_invalid' });
  },
};

/** Waits until `condition` holds, failing the test after 2 s. */
async function until(condition: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const deadline = performance.now() + 2_000;
  while (!(await condition())) {
    if (performance.now() > deadline) assert.fail(`gave up waiting: ${what}`);
    await sleep(10);
  }
}

async function start(t: TestContext, { lifecycle }: { lifecycle: boolean }) {
  const metrics = createMetrics();
  const exporter = new InMemorySpanExporter();
  const tracing = createTracing({ service: 'life', spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  const limiter = createAdaptiveLimiter({ initialLimit: 1, minLimit: 1, maxLimit: 1 });
  const app: FastifyInstance = Fastify();
  installErrorHandling(app);
  if (lifecycle) {
    installRequestLifecycle(app, {
      isClosing: () => false,
      metrics: metrics.httpServer,
      shedding: createLoadShedding(limiter, metrics.protection.shed),
      callers: verifier,
      tracing: createRequestTracing(tracing.tracer, { port: () => 0 }),
      deadline: { defaultDeadlineMs: 5_000, service: 'life' },
      log: true,
    });
  }
  const seen: { closeListeners: number[]; aborted: Array<string | undefined> } = { closeListeners: [], aborted: [] };
  let release: () => void = () => {};
  app.get('/v1/work', { config: { callers: ['orders'] } }, async (request, reply) => {
    seen.closeListeners.push(reply.raw.listenerCount('close'));
    const signal = signalOf(request);
    if ((request.query as { hold?: string }).hold === undefined) return { ok: true };
    await new Promise<void>((resolve) => {
      release = resolve;
      signal.addEventListener('abort', () => {
        seen.aborted.push(KitError.from(signal.reason).code);
        resolve();
      }, { once: true });
    });
    return { ok: true };
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  t.after(() => app.close());
  t.after(() => tracing.shutdown());
  const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
  const countOf = async (status: string) => metricValue(parseMetrics(await metrics.registry.metrics()), 'http_server_requests_total', { route: '/v1/work', status_code: status });
  return { base, seen, spans: () => exporter.getFinishedSpans(), limiter, release: () => release(), countOf };
}

void test('the lifecycle adds one close listener to a request, whatever it carries', async (t) => {
  const bare = await start(t, { lifecycle: false });
  const full = await start(t, { lifecycle: true });
  await (await send(`${bare.base}/v1/work`)).body.dump();
  const answer = await send(`${full.base}/v1/work`, { headers: { 'baton-service-token': 'orders-token' } });
  assert.equal(answer.statusCode, 200);
  assert.ok(typeof answer.headers['x-request-id'] === 'string', 'the request id is echoed');
  assert.ok(typeof answer.headers.traceresponse === 'string', 'the span was begun');
  await answer.body.dump();
  assert.equal((full.seen.closeListeners[0] ?? 0) - (bare.seen.closeListeners[0] ?? 0), 1);
});

void test('in order: a caller without its credential is refused before any span; a spent budget is traced; a shed request is counted and nothing else', async (t) => {
  const shop = await start(t, { lifecycle: true });
  const refused = await send(`${shop.base}/v1/work`);
  assert.equal(refused.statusCode, 401);
  assert.ok(typeof refused.headers['x-request-id'] === 'string', 'a refused answer has its request id too');
  await refused.body.dump();
  const slowlyKnown = await send(`${shop.base}/v1/work`, { headers: { 'baton-service-token': 'slow-orders-token' } });
  assert.equal(slowlyKnown.statusCode, 200, 'a caller verified asynchronously goes on to the handler');
  await slowlyKnown.body.dump();
  const spent = await send(`${shop.base}/v1/work`, { headers: { 'baton-service-token': 'orders-token', [timeoutHeader]: '0' } });
  assert.equal(spent.statusCode, 408);
  await spent.body.dump();

  // The limit is one: a request held in the handler fills it, the next is shed.
  const held = send(`${shop.base}/v1/work?hold=1`, { headers: { 'baton-service-token': 'orders-token' } });
  await until(() => shop.limiter.inFlight === 1, 'the held request in the handler');
  const shed = await send(`${shop.base}/v1/work`, { headers: { 'baton-service-token': 'orders-token' } });
  assert.equal(shed.statusCode, 503);
  await shed.body.dump();
  shop.release();
  assert.equal((await held).statusCode, 200);

  await until(async () => (await shop.countOf('200')) === 2, 'both 200s counted');
  assert.deepEqual(shop.spans().map((span) => span.attributes['http.response.status_code']).sort(), [200, 200, 408], 'spans for what got past the caller check and the shedding only');
  for (const status of ['401', '408', '503']) assert.equal(await shop.countOf(status), 1, `the ${status} is counted`);
});

void test('a caller that goes away: its work is cancelled, its span says so, it is counted as 499, and its place in the limit is free again', async (t) => {
  const shop = await start(t, { lifecycle: true });
  const controller = new AbortController();
  const gone = send(`${shop.base}/v1/work?hold=1`, { headers: { 'baton-service-token': 'orders-token' }, signal: controller.signal }).catch(() => 'gone');
  await until(() => shop.limiter.inFlight === 1, 'the held request in the handler');
  controller.abort();
  assert.equal(await gone, 'gone');
  await until(() => shop.seen.aborted.length === 1, 'the work cancelled');
  assert.deepEqual(shop.seen.aborted, ['canceled']);
  await until(async () => (await shop.countOf('499')) === 1, 'the 499 counted');
  assert.equal(shop.limiter.inFlight, 0);
  const [span] = shop.spans();
  assert.equal(span?.attributes['error.type'], 'caller_gone');
});
