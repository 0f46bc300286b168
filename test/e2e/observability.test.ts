import { describe, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { createSuiteScope } from '@baton/kit/testing';
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

void describe('what an operator sees: a real Prometheus scraping every service', prometheusAvailability(), () => {
  const scope = createSuiteScope();
  let shop: ShopStack;
  let prometheus: PrometheusServer;

  before(async () => {
    shop = await startShop(scope, { orders: { LOG_LEVEL: 'warn' } });
    prometheus = await startPrometheus(scope, Object.fromEntries(serviceNames.map((name) => [name, new URL(shop.stack.url(name)).host])), [rulesFile]);
  });

  test('every /metrics passes promtool check metrics, and the rule file passes promtool check rules', async () => {
    // Some traffic first, so the request and client series exist.
    const api = createShopClient(shop.gateway);
    await api.signUp('Prom');
    await api.call('GET', '/api/v1/products');
    for (const name of serviceNames) {
      const text = await (await fetch(`${shop.stack.url(name)}/metrics`)).text();
      const checked = promtool(['check', 'metrics'], text);
      assert.equal(checked.status, 0, `${name}: ${checked.output}`);
    }
    const rules = promtool(['check', 'rules', rulesFile]);
    assert.equal(rules.status, 0, rules.output);
  });

  test('Prometheus scrapes all five; after the breaker to inventory opens, its series says so', async () => {
    const up = await eventually('all five targets up', async () => {
      const series = await prometheus.query('up');
      return series.length === serviceNames.length && series.every((s) => s.value === 1) ? series : undefined;
    });
    assert.deepEqual(up.map((s) => s.metric.job).sort(), [...serviceNames].sort());

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
      for (let i = 0; i < 4; i++) assert.equal((await api.order(buyer.token, [{ sku: 'COFFEE-250G', quantity: 1 }])).status, 503);
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
