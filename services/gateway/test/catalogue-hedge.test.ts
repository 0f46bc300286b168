import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startService, type RunningService } from '@baton/kit/service';
import { addCleanup, testIdentity, createCapturedLogger, createSuiteScope, metricValue, parseMetrics } from '@baton/kit/testing';
import { readConfig } from '../src/config.ts';
import { gatewayService } from '../src/service.ts';
import { startServicesBehind, type ServicesBehind } from './support/services-behind.ts';

// Long enough that a read left waiting on the silent instance would outlast the test's own
// timeout: only a hedge to the other instance answers it.
const upstreamTimeoutMs = 120_000;

// The real gateway, in process, with two instances of inventory behind it: one answers, one
// takes every request and never answers (a replica cut off by a partition, as in test/hosts).
void describe('a public catalogue read is hedged to another instance', { timeout: 60_000 }, () => {
  const suite = createSuiteScope();
  let answering: ServicesBehind;
  let silent: ServicesBehind;
  let gateway: RunningService<undefined>;

  before(async () => {
    answering = await startServicesBehind(suite);
    silent = await startServicesBehind(suite);
    const config = readConfig({
      ...testIdentity.env('gateway', []),
      HOST: '127.0.0.1',
      PORT: '0',
      USERS_URLS: answering.url,
      INVENTORY_URLS: `${answering.url},${silent.url}`,
      ORDERS_URLS: answering.url,
      NOTIFICATIONS_URLS: answering.url,
      USERS_JWKS_URL: answering.jwksUrl,
      REQUEST_DEADLINE_MS: String(upstreamTimeoutMs),
      UPSTREAM_TIMEOUT_MS: String(upstreamTimeoutMs),
    });
    gateway = await startService(gatewayService, config, { logger: createCapturedLogger({ service: 'gateway' }).logger });
    addCleanup(suite, () => gateway.shutdown('test over'));
  });

  void test('every read is answered by the instance that answers; the copies left on the silent one are cancelled', async () => {
    // Until the client knows the upstream's latency (20 answers) there is no tail to cut, so no
    // hedge: both instances answer these, the one that will fall silent far the faster (200 ms
    // against nothing, beyond any jitter of a busy machine), so that the balancer (which sends
    // each call to the cheaper of the two) sends it the next read for sure.
    answering.answerAfter(200);
    for (let i = 0; i < 30; i++) {
      const answer = await fetch(`${gateway.url}/api/v1/categories`);
      assert.equal(answer.status, 200);
      await answer.body?.cancel();
    }
    silent.answerAfter(Infinity);
    for (let i = 0; i < 20; i++) {
      const answer = await fetch(`${gateway.url}/api/v1/products?q=word${i}`);
      assert.equal(answer.status, 200);
      await answer.body?.cancel();
    }
    const stuck = silent.received.filter((r) => r.path === '/v1/products');
    // It was the faster until then, so the balancer sent it at least the first of these reads.
    assert.ok(stuck.length >= 1, 'the silent instance was never tried: the test proves nothing');
    // The gateway cancelled each once the hedge's answer came: none is left open there.
    await waitFor(() => stuck.every((r) => r.aborted));
    const metrics = parseMetrics(await (await fetch(`${gateway.adminUrl}/metrics`)).text());
    assert.ok((metricValue(metrics, 'baton_client_hedges_total', { upstream: 'inventory' }) ?? 0) >= stuck.length);
  });

  void test('a read on a user\'s behalf is not hedged: it goes to one instance', async () => {
    // Both slow now: a hedged read would send its copy after the upstream's p95 (milliseconds,
    // from the reads above), long before this one is answered.
    answering.answerAfter(500);
    addCleanup(suite, () => answering.answerAfter(0));
    const stockReads = () => [...silent.received, ...answering.received].filter((r) => r.path === '/v1/products/COFFEE-1KG/stock');
    const answer = await fetch(`${gateway.url}/api/v1/products/COFFEE-1KG/stock`, {
      headers: { authorization: `Bearer ${answering.accessToken({ roles: ['staff'] })}` }, signal: AbortSignal.timeout(1_500),
    }).catch(() => undefined);
    await answer?.body?.cancel();
    assert.equal(stockReads().length, 1);
  });
});

async function waitFor(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 25));
  assert.ok(condition());
}
