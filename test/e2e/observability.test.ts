import { describe, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { startTraceCollector, type TraceCollector, type Waterfall } from '@baton/kit/telemetry/collector';
import { createSuiteScope, metricValue, parseMetrics, useTestNats, type TestBroker } from '@baton/kit/testing';
import { serviceNames } from '@baton/runner';
import { prometheusAvailability, promtool, startPrometheus, type PrometheusServer } from '../support/prometheus.ts';
import { createShopClient } from './shop-client.ts';
import { startShop, type ShopStack } from './shop-stack.ts';

const rulesFile = fileURLToPath(new URL('../../deploy/prometheus/alerts.yml', import.meta.url));

async function eventually<T>(what: string, probe: () => Promise<T | undefined>, attempts = 150): Promise<T> {
  for (let i = 0; i < attempts; i++) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`gave up waiting for ${what}`);
}

void describe('what an operator sees: one trace per request, a real Prometheus scraping every service', prometheusAvailability(), () => {
  const scope = createSuiteScope();
  let shop: ShopStack;
  // Every service of the shop but the provider, which stands outside it.
  // Media takes no part in an order, so it has no span in its trace; the shop runs without it here.
  const traced = serviceNames.filter((name) => name !== 'provider' && name !== 'media');
  let prometheus: PrometheusServer;
  let collector: TraceCollector;
  let broker: TestBroker | undefined;
  let brokerNote = '';

  before(async () => {
    // Events go over NATS JetStream (a namespace of this run's own), so the trace crosses a real
    // broker; without one reachable (and not under CI) the shop uses its default, the HTTP feed.
    broker = await useTestNats({ after: (fn) => scope.after(fn), skip: (message) => { brokerNote = String(message ?? ''); } });
    const messaging = broker === undefined ? {} : { NATS_URL: broker.url, MESSAGING_NAMESPACE: broker.namespace, MESSAGING_ACK_WAIT_MS: '3000' };
    // The OTLP receiver inside the test: every service sends its spans here.
    collector = await startTraceCollector();
    scope.after(() => collector.close());
    const tracing = { OTEL_EXPORTER_OTLP_ENDPOINT: collector.url, OTEL_BSP_SCHEDULE_DELAY: '100', ...messaging };
    // The whole shop, payment too; the provider stands outside it and sends Baton no spans.
    // Orders calls its upstreams over gRPC here (HTTP is its default, which the other checkout
    // tests run), so the saga's gRPC hops are traced end to end too.
    const own = (name: string) => (name === 'inventory' ? { LOG_LEVEL: 'info' } : name === 'orders' ? { UPSTREAM_PROTOCOL: 'grpc' } : {});
    shop = await startShop(scope, Object.fromEntries(traced.map((name) => [name, { ...tracing, ...own(name) }])), { payment: true });
    prometheus = await startPrometheus(scope, Object.fromEntries(shop.stack.services.map((name) => [name, new URL(shop.stack.adminUrl(name)).host])), [rulesFile]);
  });

  test('one paid order through the gateway is one trace: every Baton service, the payment hop under its saga step, across the broker, the consumer linked to the publisher, no orphans', async (t) => {
    if (broker === undefined) t.diagnostic(`${brokerNote}; the events go over the HTTP feed instead`);
    const api = createShopClient(shop.gateway);
    const buyer = await api.signUp('Tracy');
    const placed = await api.order(buyer.token, [{ sku: 'MUG-STONEWARE', quantity: 1 }], undefined, 'pm_card_visa');
    assert.equal(placed.status, 201, JSON.stringify(placed.body));
    const traceId = /^00-([0-9a-f]{32})-/.exec(placed.headers.get('traceresponse') ?? '')?.[1];
    assert.ok(traceId, 'the answer names its trace');

    const waterfall = await eventually('the order\'s trace from every Baton service', async () => {
      const response = await fetch(`${collector.url}/traces/${traceId}`);
      if (response.status !== 200) return undefined;
      const trace = await response.json() as Waterfall;
      const consumed = trace.spans.some((s) => s.service === 'notifications' && s.kind === 'consumer');
      return trace.services.length === traced.length && consumed ? trace : undefined;
    });
    assert.deepEqual(waterfall.services, [...traced].sort());
    assert.deepEqual(waterfall.orphans, [], 'every span\'s parent is in the trace');
    const roots = waterfall.spans.filter((s) => s.depth === 0);
    assert.deepEqual(roots.map((s) => `${s.service} ${s.name}`), ['gateway POST /api/v1/orders'], 'one root: the gateway');

    const consumer = waterfall.spans.find((s) => s.service === 'notifications' && s.kind === 'consumer' && s.name === 'process order.created');
    assert.ok(consumer, 'notifications handled order.created in the trace');
    const producer = waterfall.spans.find((s) => s.service === 'orders' && s.kind === 'producer' && s.name === 'create order.created');
    assert.ok(producer, 'orders created the event in the trace');
    assert.deepEqual(consumer.links, [{ traceId, spanId: producer.spanId }], 'the consumer\'s span is linked to the publisher\'s');
    if (broker !== undefined) {
      const sent = waterfall.spans.find((s) => s.service === 'orders' && s.name === 'send order.created');
      assert.equal(sent?.attributes['messaging.system'], 'nats', 'the relay\'s send to JetStream is in the trace');
      assert.equal(consumer.attributes['messaging.system'], 'nats', 'and so is the delivery from it');
    }
    for (const service of ['users', 'inventory', 'payment']) {
      assert.ok(waterfall.spans.some((s) => s.service === service && s.kind === 'server'), `${service} served a call in the trace`);
    }
    // The saga's steps, each a span, and the payment hop under its step.
    for (const call of ['reserve', 'authorize', 'capture', 'confirm']) {
      assert.ok(waterfall.spans.some((s) => s.service === 'orders' && s.name === `checkout ${call}`), `orders' span for checkout ${call}`);
    }
    const authorize = waterfall.spans.find((s) => s.service === 'orders' && s.name === 'checkout authorize')!;
    const authorized = waterfall.spans.find((s) => s.service === 'payment' && s.kind === 'server' && s.name.endsWith('/Authorize'));
    assert.ok(authorized, 'payment served Authorize in the trace');
    assert.ok(authorized.depth > authorize.depth, 'under the saga\'s authorize step');
    // And in orders' metrics: each step this checkout wrote, each call it made, none failed.
    const metricsText = await (await fetch(new URL('/metrics', shop.stack.adminUrl('orders')))).text();
    const metrics = parseMetrics(metricsText);
    for (const step of ['reserving', 'authorizing', 'capturing', 'confirming', 'done']) {
      assert.ok(metricValue(metrics, 'checkout_steps_total', { step }) >= 1, `checkout_steps_total{step="${step}"}`);
    }
    for (const call of ['reserve', 'authorize', 'capture', 'confirm']) {
      assert.ok(metricValue(metrics, 'checkout_calls_total', { call, outcome: 'ok' }) >= 1, `checkout_calls_total{call="${call}",outcome="ok"}`);
      // A histogram's count per series is read from the text: the parser folds labelled series together.
      assert.match(metricsText, new RegExp(`^checkout_call_duration_seconds_count\\{call="${call}"\\} [1-9]`, 'm'), `checkout_call_duration_seconds{call="${call}"}`);
    }
    assert.equal(metricValue(metrics, 'checkout_steps_total', { step: 'failed' }), 0, 'no checkout failed');

    const inventoryLine = shop.stack.lastLines('inventory').find((line) => line.record?.trace_id === traceId);
    assert.ok(inventoryLine, 'an inventory log line of that order carries its trace id');
  });

  test('every /metrics passes promtool check metrics, and the rule file passes promtool check rules', async () => {
    // Some traffic first, so the request and client series exist.
    const api = createShopClient(shop.gateway);
    await api.signUp('Prom');
    await api.call('GET', '/api/v1/products');
    for (const name of shop.stack.services) {
      const text = await (await fetch(`${shop.stack.adminUrl(name)}/metrics`)).text();
      const checked = promtool(['check', 'metrics'], text);
      assert.equal(checked.status, 0, `${name}: ${checked.output}`);
    }
    const rules = promtool(['check', 'rules', rulesFile]);
    assert.equal(rules.status, 0, rules.output);
  });

  test('Prometheus scrapes every service; after the breaker to inventory opens, its series says so', async () => {
    const up = await eventually('every target up', async () => {
      const series = await prometheus.query('up');
      return series.length === shop.stack.services.length && series.every((s) => s.value === 1) ? series : undefined;
    });
    assert.deepEqual(up.map((s) => s.metric.job).sort(), [...shop.stack.services].sort());

    const closed = await eventually('the breaker series', async () => {
      const series = await prometheus.query('baton_client_breaker_state{job="orders",upstream="inventory"}');
      return series.length > 0 ? series : undefined;
    });
    assert.ok(closed.every((s) => s.value === 0), 'closed before anything failed');

    const api = createShopClient(shop.gateway);
    const buyer = await api.signUp('Breaker');
    await shop.stack.stop('inventory');
    try {
      // Each checkout tries inventory up to three times; five failures in a row open the circuit.
      for (let i = 0; i < 4; i++) assert.equal((await api.order(buyer.token, [{ sku: 'COFFEE-250G', quantity: 1 }], undefined, 'pm_card_visa')).status, 503);
      const open = await eventually('the breaker to read open in Prometheus', async () => {
        const series = await prometheus.query('max(baton_client_breaker_state{job="orders",upstream="inventory"})');
        return series[0]?.value === 2 ? series : undefined;
      });
      assert.equal(open[0]?.value, 2);
      const transitions = await prometheus.query('sum(baton_client_breaker_transitions_total{job="orders",upstream="inventory",to="open"})');
      assert.ok((transitions[0]?.value ?? 0) >= 1, 'the transition was counted');
    } finally {
      await shop.stack.start('inventory');
    }
  });
});
