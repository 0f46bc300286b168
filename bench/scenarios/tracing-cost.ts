import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { startTraceCollector } from '../../packages/kit/src/telemetry/collector/index.ts';
import { randomPortBase, startStack, withoutPaymentOrMedia, type ServiceName, type Stack } from '../../packages/runner/src/index.ts';
import { onDatabase } from '../harness/database.ts';
import { pairedRounds } from '../harness/load.ts';
import type { Row, Scenario } from '../harness/report.ts';

const concurrency = 8;
const roundMs = 2_000;
const rounds = 9;
// Seeded products, each variant's shop (each has its own) stocked up first so none runs out
// within the run: a fast shop sells more than the seed holds (1,650 units of these), and a sold-out
// checkout is a quick 409 that would flatter its variant.
const stockUpUnits = 1_000_000;
const skus = [
  ...Array<string>(10).fill('FILTER-PAPER-100'), ...Array<string>(8).fill('GIFT-CARD-25'), ...Array<string>(6).fill('COFFEE-250G'),
  ...Array<string>(5).fill('CHOCOLATE-DARK-70'), ...Array<string>(4).fill('MUG-STONEWARE'),
];

// 'no exporter': no OTLP endpoint, so nothing listens for the spans (a service's default outside `npm start`).
const variants = {
  'tracing off': { OTEL_SDK_DISABLED: 'true' },
  'tracing on, no exporter': { OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '1' },
  'tracing on, 10% sampled': { OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.1' },
  'tracing on, 100% sampled': { OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '1' },
} as const;
type Variant = keyof typeof variants;

async function startVariantShop(variant: Variant, otlpEndpoint: string, varDir: string): Promise<Stack> {
  const tracing = variants[variant];
  const { OTEL_EXPORTER_OTLP_ENDPOINT: _inherited, ...inherited } = process.env;
  const exported = variant !== 'tracing on, no exporter';
  const env: NodeJS.ProcessEnv = { ...inherited, LOG_LEVEL: 'warn', ...tracing, ...(exported ? { OTEL_EXPORTER_OTLP_ENDPOINT: otlpEndpoint } : {}) };
  const serviceEnv: Partial<Record<ServiceName, NodeJS.ProcessEnv>> = {
    // The bench measures the path, not the rate limits that protect it.
    // Checkout without payment: the cost of tracing is measured on the path it was measured on before.
    ...withoutPaymentOrMedia().serviceEnv,
    gateway: { RATE_LIMIT_PER_ADDRESS_PER_MINUTE: '10000000', RATE_LIMIT_PER_USER_PER_MINUTE: '10000000' },
  };
  return startStack({ portBase: randomPortBase(), services: withoutPaymentOrMedia().services, varDir, env, serviceEnv, startTimeoutMs: 120_000 });
}

/** Every product this bench buys, stocked up in the shop's own inventory database (as its own role). */
async function stockUp(shop: Stack): Promise<void> {
  const inventory = shop.database.services.get('inventory');
  if (inventory === undefined) throw new Error('the shop has no inventory database');
  await onDatabase(inventory.url, (client) => client.query('update products set stock = stock + $2 where sku = any($1)', [[...new Set(skus)], stockUpUnits]));
}

async function signIn(gateway: string, dispatcher: Agent): Promise<string> {
  const email = `bench-${randomUUID()}@example.com`;
  const password = 'correct horse battery staple';
  const json = { 'content-type': 'application/json' };
  await (await request(`${gateway}/api/v1/users`, { method: 'POST', headers: json, body: JSON.stringify({ email, password, name: 'Bench' }), dispatcher })).body.dump();
  const login = await request(`${gateway}/api/v1/auth/login`, { method: 'POST', headers: json, body: JSON.stringify({ email, password }), dispatcher });
  return ((await login.body.json()) as { accessToken: string }).accessToken;
}

export const tracingCost: Scenario = {
  name: 'tracing-cost',
  description: `Checkout (POST /api/v1/orders through the gateway: orders, users, inventory, their databases and, with events, the outbox) on the whole shop as real processes, with tracing off, on with no exporter (nothing listening: the services' default), on at 10% sampling and on at 100%, every span of the last two exported over OTLP/HTTP to a collector in the bench process. One shop per variant, all running at once; ${concurrency} concurrent buyers, ${rounds} rounds of ${roundMs} ms, every variant once per round in an order that rotates, each ratio the median of the rounds' ratios.`,
  target: 'tracing at 100% costs at most 15% of checkout throughput',
  async run() {
    const collector = await startTraceCollector({ maxTraces: 100 });
    const dirs: string[] = [];
    const shops = new Map<Variant, Stack>();
    const dispatcher = new Agent({ connections: concurrency * 2 });
    try {
      for (const variant of Object.keys(variants) as Variant[]) {
        const dir = await mkdtemp(join(tmpdir(), 'baton-bench-tracing-'));
        dirs.push(dir);
        const shop = await startVariantShop(variant, collector.url, dir);
        shops.set(variant, shop);
        await stockUp(shop);
      }
      const checkouts = new Map<Variant, () => Promise<void>>();
      for (const [variant, shop] of shops) {
        const gateway = shop.url('gateway');
        const token = await signIn(gateway, dispatcher);
        let n = 0;
        checkouts.set(variant, async () => {
          const sku = skus[n++ % skus.length] as string;
          const res = await request(`${gateway}/api/v1/orders`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, 'idempotency-key': randomUUID() },
            body: JSON.stringify({ items: [{ sku, quantity: 1 }] }),
            dispatcher,
          });
          await res.body.dump();
          if (res.statusCode !== 201) throw new Error(`checkout answered ${res.statusCode}`);
        });
      }
      const errors = new Map<Variant, number>();
      const counted = Object.fromEntries([...checkouts].map(([variant, checkout]) => [variant, () => checkout().catch((error: unknown) => {
        errors.set(variant, (errors.get(variant) ?? 0) + 1);
        throw error;
      })]));
      const measured = await pairedRounds(counted, { concurrency, rounds, roundMs });
      const rate = (variant: Variant) => measured.perSecond(variant);
      const rows: Row[] = (Object.keys(variants) as Variant[]).map((variant) => ({
        variant, metric: 'checkouts', value: rate(variant), unit: 'per second', note: `${errors.get(variant) ?? 0} not 201`,
      }));
      for (const variant of ['tracing on, no exporter', 'tracing on, 10% sampled', 'tracing on, 100% sampled'] as const) {
        rows.push({ variant: `${variant} / off`, metric: 'throughput ratio', value: measured.pairedRatio(variant, 'tracing off'), unit: '×', note: variant.endsWith('100% sampled') ? 'target ≥ 0.85' : '' });
      }
      rows.push({ variant: 'collector', metric: 'spans received', value: collector.store.receivedSpans, unit: 'spans', note: `from the ${withoutPaymentOrMedia().services.length} services of the two exporting shops` });
      return rows;
    } finally {
      await dispatcher.close();
      await Promise.all([...shops.values()].map((shop) => shop.shutdown()));
      await collector.close();
      await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
    }
  },
};
