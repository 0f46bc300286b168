import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { Histogram } from 'prom-client';
import { databaseConfigFields, loadConfig, serviceConfigFields, z } from '../config/index.ts';
import { Code } from '../errors/index.ts';
import type { HttpClient } from '../http/index.ts';
import { createRoundRobin } from '../upstream/balancer.ts';
import type { ServiceContext } from '../service/definition.ts';
import { startService, type RunningService } from '../service/index.ts';
import { addCleanup, createSilentLogger, createSuiteDatabase, createSuiteScope, metricValue, parseMetrics, delayUnlessClosed, sendJson, startUpstream, type Upstream, type UpstreamHandler, fixtureMigrationsDir as migrationsDir } from '../testing/index.ts';

// A service's outbound metrics as Prometheus reads them: a real service (startService wires the
// kit client to its registry), real upstreams that fail or are slow, and its /metrics parsed
// with a real text-format parser. Each test has an upstream of its own, so series never mix.

const configSchema = z.object({ ...serviceConfigFields({ name: 'caller', port: 0 }), ...databaseConfigFields() });

void describe('the client metrics of a service', () => {
  const scope = createSuiteScope();
  let service: RunningService;
  let clientFor: ServiceContext['createHttpClient'];
  // Requests held by the service's low-priority route, until a test lets them go.
  let heldRequests = 0;
  let releaseHeld: () => void = () => {};
  let held = new Promise<void>((resolve) => { releaseHeld = resolve; });

  before(async () => {
    const config = loadConfig(configSchema, { HOST: '127.0.0.1', PORT: '0', DATABASE_URL: await createSuiteDatabase(scope) });
    service = await startService({
      name: 'caller',
      migrationsDir,
      setup(app, context) {
        clientFor = context.createHttpClient;
        app.get('/v1/browse', { config: { priority: 'low' } }, async () => {
          heldRequests++;
          await held;
          return { ok: true };
        });
      },
    }, config, { logger: createSilentLogger() });
    // Before its database is dropped (cleanups run last registered first).
    addCleanup(scope, () => service.shutdown('test over'));
  });

  const scrape = async () => parseMetrics(await (await fetch(`${service.adminUrl}/metrics`)).text());
  const upstream = async (handler: UpstreamHandler): Promise<Upstream> => {
    const started = await startUpstream(handler);
    scope.after(() => started.close());
    return started;
  };
  const get = (client: HttpClient, timeoutMs = 10_000) => client.request({ method: 'GET', path: '/thing', signal: AbortSignal.timeout(timeoutMs) });
  // The series of one histogram, read from the service's registry: the text parser folds a
  // labelled histogram's series together (see testing/metrics.ts).
  const histogram = async (name: string, labels: Record<string, string>) => {
    const metric = service.metrics.registry.getSingleMetric(name);
    assert.ok(metric instanceof Histogram, `${name} is a registered histogram`);
    const { values } = await metric.get();
    const matching = values.filter((v) => Object.entries(labels).every(([key, value]) => v.labels[key] === value));
    const of = (suffix: string, le?: number | string) => matching.find((v) => v.metricName === `${name}${suffix}` && (le === undefined || v.labels.le === le))?.value;
    return { count: of('_count'), sum: of('_sum'), bucket: (le: number | string) => of('_bucket', le) };
  };

  void test('attempts by outcome and code, their durations, retries, the retry budget and give-ups, per upstream', async () => {
    let failuresLeft = 2;
    const flaky = await upstream((_req, res) => (failuresLeft-- > 0 ? sendJson(res, 503, { down: true }) : sendJson(res, 200, { ok: true })));
    // A budget of exactly two retries (no share of traffic, a floor of 0.05/s over 40 s).
    const client = clientFor({ name: 'flaky', urls: [flaky.url], retry: { maxAttempts: 3, baseDelayMs: 1 }, retryBudget: { ratio: 0, minRetriesPerSecond: 0.05, windowMs: 40_000 } });
    assert.equal(metricValue(await scrape(), 'baton_client_retry_budget_available', { upstream: 'flaky' }), 2);

    assert.equal((await get(client)).status, 200, 'two 503s, then the second retry answers');
    let metrics = await scrape();
    const attempts = (outcome: string, code: string) => metricValue(metrics, 'baton_client_attempts_total', { upstream: 'flaky', method: 'GET', outcome, code });
    assert.equal(attempts('error', Code.Unavailable), 2);
    assert.equal(attempts('ok', '200'), 1);
    assert.equal(metricValue(metrics, 'baton_client_retries_total', { upstream: 'flaky' }), 2);
    assert.equal(metricValue(metrics, 'baton_client_retry_budget_available', { upstream: 'flaky' }), 0, 'the budget is spent');
    assert.equal((await histogram('baton_client_attempt_duration_seconds', { upstream: 'flaky', outcome: 'error' })).count, 2);
    assert.equal((await histogram('baton_client_attempt_duration_seconds', { upstream: 'flaky', outcome: 'ok' })).count, 1);

    failuresLeft = 1;
    await assert.rejects(get(client), { code: Code.Unavailable });
    metrics = await scrape();
    assert.equal(attempts('error', Code.Unavailable), 3, 'one attempt, no retry: the budget refused it');
    assert.equal(metricValue(metrics, 'baton_client_retries_total', { upstream: 'flaky' }), 2);
    assert.equal(metricValue(metrics, 'baton_client_give_ups_total', { upstream: 'flaky', reason: 'budget_exhausted' }), 1);
  });

  void test('a slow upstream\'s attempts fall in the buckets above its delay, and a deadline it misses is an aborted attempt', async () => {
    const slow = await upstream(async (req, res) => {
      await delayUnlessClosed(res, req.url === '/thing' ? 300 : 60_000);
      if (!res.destroyed) sendJson(res, 200, { ok: true });
    });
    const client = clientFor({ name: 'slow', urls: [slow.url] });
    for (let i = 0; i < 2; i++) assert.equal((await get(client)).status, 200);
    // The upstream waits 300 ms before answering: no attempt can be counted under 0.25 s.
    const ok = await histogram('baton_client_attempt_duration_seconds', { upstream: 'slow', outcome: 'ok' });
    assert.equal(ok.count, 2);
    assert.equal(ok.bucket(0.25), 0);
    assert.equal(ok.bucket('+Inf'), 2);
    assert.ok((ok.sum ?? 0) >= 0.55, `the sum is at least the two delays: ${ok.sum}`);

    await assert.rejects(client.request({ method: 'GET', path: '/never', signal: AbortSignal.timeout(10_000), timeoutMs: 200 }), { code: Code.DeadlineExceeded });
    const metrics = await scrape();
    assert.equal(metricValue(metrics, 'baton_client_attempts_total', { upstream: 'slow', outcome: 'aborted', code: Code.DeadlineExceeded }), 1);
    assert.equal(metricValue(metrics, 'baton_client_attempts_total', { upstream: 'slow', outcome: 'ok' }), 2);
  });

  void test('a full bulkhead refuses a call at once; in_flight counts the one holding it', async () => {
    let letGo: () => void = () => {};
    const holding = new Promise<void>((resolve) => { letGo = resolve; });
    const busy = await upstream(async (_req, res) => {
      await holding;
      sendJson(res, 200, { ok: true });
    });
    const client = clientFor({ name: 'narrow', urls: [busy.url], bulkhead: { maxConcurrent: 1, maxQueue: 0 } });
    const first = get(client);
    try {
      for (let i = 0; i < 500 && busy.hits === 0; i++) await sleep(10);
      assert.equal(busy.hits, 1, 'the first call reached the upstream');

      await assert.rejects(get(client), { code: Code.Unavailable, reason: 'bulkhead_full' });
      const metrics = await scrape();
      assert.equal(metricValue(metrics, 'baton_client_bulkhead_rejections_total', { upstream: 'narrow' }), 1);
      assert.equal(metricValue(metrics, 'baton_client_in_flight', { upstream: 'narrow' }), 1);
      assert.equal(busy.hits, 1, 'the refused call never left the service');
    } finally {
      letGo();
    }
    assert.equal((await first).status, 200);
    const metrics = await scrape();
    assert.equal(metricValue(metrics, 'baton_client_in_flight', { upstream: 'narrow' }), 0);
    assert.equal(metricValue(metrics, 'baton_client_bulkhead_rejections_total', { upstream: 'narrow' }), 1);
  });

  void test('an instance that keeps failing is ejected: counted per instance, and the gauge says how many are out', async () => {
    const bad = await upstream((_req, res) => sendJson(res, 503, { down: true }));
    const good = await upstream((_req, res) => sendJson(res, 200, { ok: true }));
    const client = clientFor({
      name: 'pair', urls: [bad.url, good.url], balancer: createRoundRobin(),
      retry: { maxAttempts: 1 }, outlierDetection: { consecutiveFailures: 2, baseEjectionMs: 60_000 },
    });
    assert.equal(metricValue(await scrape(), 'baton_client_instances', { upstream: 'pair' }), 2);
    for (let i = 0; i < 4; i++) await get(client).catch(() => undefined);
    assert.equal(bad.hits, 2, 'round robin sent it every other call');

    const metrics = await scrape();
    assert.equal(metricValue(metrics, 'baton_client_ejections_total', { upstream: 'pair', instance: bad.url }), 1);
    assert.equal(metricValue(metrics, 'baton_client_ejections_total', { upstream: 'pair', instance: good.url }), 0);
    assert.equal(metricValue(metrics, 'baton_client_ejected_instances', { upstream: 'pair' }), 1);
    for (let i = 0; i < 4; i++) assert.equal((await get(client)).status, 200, 'only the good one is called now');
    assert.equal(bad.hits, 2);
  });

  void test('the breaker state series follows the circuit: 0, then 2 when open, then 0 after a probe; each transition counted', async () => {
    let healthy = false;
    const fragile = await upstream((_req, res) => (healthy ? sendJson(res, 200, { ok: true }) : sendJson(res, 503, { down: true })));
    const client = clientFor({ name: 'fragile', urls: [fragile.url], retry: { maxAttempts: 1 }, breaker: { consecutiveFailures: 2, openDurationMs: 100 } });
    const series = { upstream: 'fragile', instance: fragile.url };
    const transitions = async (to: string) => metricValue(await scrape(), 'baton_client_breaker_transitions_total', { ...series, to });
    assert.equal(metricValue(await scrape(), 'baton_client_breaker_state', series), 0, 'closed from the start');

    for (let i = 0; i < 2; i++) await assert.rejects(get(client), { code: Code.Unavailable });
    assert.equal(metricValue(await scrape(), 'baton_client_breaker_state', series), 2, 'open');
    assert.equal(await transitions('open'), 1);

    healthy = true;
    // Longer than openDurationMs, so the next call is let through as the probe.
    await sleep(150);
    assert.equal((await get(client)).status, 200);
    assert.equal(metricValue(await scrape(), 'baton_client_breaker_state', series), 0, 'closed again');
    assert.deepEqual([await transitions('open'), await transitions('half_open'), await transitions('closed')], [1, 1, 1]);
  });

  void test('load shedding: requests refused with 503 are counted by route and priority', async () => {
    // The low-priority route may fill half the adaptive limit. Requests are held one by one
    // until the service sheds one; whatever the limit has learnt, that comes before 250.
    const answers: Array<Promise<Response>> = [];
    try {
      let shed: Response | undefined;
      for (let i = 0; i < 250 && shed === undefined; i++) {
        const entered = heldRequests;
        let answered: Response | undefined;
        const answer = fetch(`${service.url}/v1/browse`).then((response) => (answered = response));
        answers.push(answer);
        // Either the handler holds it now, or it was answered at once: shed.
        while (heldRequests === entered && answered === undefined) await sleep(2);
        if (answered?.status === 503) shed = answered;
      }
      assert.ok(shed, 'a request was shed');
      assert.equal(shed.headers.get('retry-after'), '1');
      const metrics = await scrape();
      assert.equal(metricValue(metrics, 'baton_server_shed_requests_total', { route: '/v1/browse', priority: 'low' }), 1);
      assert.ok(metricValue(metrics, 'baton_server_concurrency_limit') >= heldRequests, 'the limit is above what was let in');
      assert.equal(metricValue(metrics, 'http_server_active_requests', { method: 'GET' }), heldRequests, 'the held requests are in flight (the scrape, on the admin listener, is neither counted nor shed)');
    } finally {
      releaseHeld();
    }
    const statuses = await Promise.all(answers.map(async (answer) => (await answer).status));
    assert.deepEqual(statuses.filter((s) => s !== 200), [503]);
    held = new Promise<void>((resolve) => { releaseHeld = resolve; });
  });
});
