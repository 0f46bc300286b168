import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, request } from 'undici';
import { startStackOnFreePorts, withoutPaymentOrMedia, type ServiceName, type Stack } from '../../packages/runner/src/index.ts';
import { onDatabase } from '../harness/database.ts';
import { pairedRounds } from '../harness/load.ts';
import { cpuMsBetween, cpuMsOf, cpuMsOfTree } from '../harness/process-cpu.ts';
import { startCollectorProcess } from '../harness/trace-collector-process.ts';
import type { Row, Scenario } from '../harness/report.ts';

const concurrency = 8;
const roundMs = 2_000;
// Fifteen: a round's ratio moves by ±10% on this shared machine (bursts of a few seconds from
// elsewhere land in one variant's slot), and with nine the median still moved by ±5% from run to
// run (bench/README.md). `TRACING_COST_ROUNDS` sets it.
const rounds = Number(process.env.TRACING_COST_ROUNDS ?? 15);
// CPU is read as a variant's round begins and this long after it ends, so that the spans it
// made are sent (a batch goes out within OTEL_BSP_SCHEDULE_DELAY, 1 s) inside its own window;
// the next variant's round starts only then, so none is slowed by another's spans being sent.
const spillMs = 1_500;
const idleMs = 3_000;
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
  return startStackOnFreePorts({ services: withoutPaymentOrMedia().services, varDir, env, serviceEnv, startTimeoutMs: 120_000 });
}

/** The CPU time, in ms, of each of the shop's service processes (and anything under them) now, by service. */
function nodeCpuOf(shop: Stack): Map<ServiceName, Map<number, number>> {
  const all = new Map<ServiceName, Map<number, number>>();
  for (const name of shop.services) {
    const pid = shop.status(name).pid;
    if (pid !== undefined) all.set(name, cpuMsOfTree(pid));
  }
  return all;
}

/** What each service used between two readings, in ms. */
function serviceCpuMsBetween(before: Map<ServiceName, Map<number, number>>, after: Map<ServiceName, Map<number, number>>): Map<ServiceName, number> {
  return new Map([...after].map(([name, tree]) => [name, cpuMsBetween(before.get(name) ?? new Map(), tree)] as const));
}

const sumOf = (values: Iterable<number>) => [...values].reduce((sum, value) => sum + value, 0);

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
  description: `Checkout (POST /api/v1/orders through the gateway: orders, users, inventory, their databases and, with events, the outbox) on the whole shop as real processes, with tracing off, on with no exporter (nothing listening: the services' default), on at 10% sampling and on at 100%, every span of the last two exported over OTLP/HTTP (JSON, the services' default) to a kit collector in a process of its own. One shop per variant, all running at once; ${concurrency} concurrent buyers, ${rounds} rounds of ${roundMs} ms, every variant once per round in an order that rotates, each ratio the median of the rounds' ratios. Beside the throughput, the Node CPU per checkout of each variant's services (from /proc, each round's window running on ${spillMs} ms after it, so the spans it made are sent inside it and not during the next variant's round, less each shop's own idle rate, read over ${idleMs} ms first), which a shared machine moves far less, with each service's share; and the collector's own CPU per checkout in each exporting variant's rounds, since it takes its share of the same two cores.`,
  target: 'tracing at 100% costs at most 15% of checkout throughput',
  async run() {
    const collector = await startCollectorProcess();
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
      // Each shop's idle CPU rate (its polls and probes), all of them idle: taken off each round's window.
      const idleFrom = new Map([...shops].map(([variant, shop]) => [variant, nodeCpuOf(shop)] as const));
      const idleStartedAt = performance.now();
      await sleep(idleMs);
      const idleSeconds = (performance.now() - idleStartedAt) / 1000;
      const idleMsPerSecond = new Map([...shops].map(([variant, shop]) => {
        const used = serviceCpuMsBetween(idleFrom.get(variant) ?? new Map(), nodeCpuOf(shop));
        return [variant, new Map([...used].map(([name, ms]) => [name, ms / idleSeconds] as const))] as const;
      }));
      const cpu = new Map<Variant, { ms: Map<ServiceName, number>; collectorMs: number; checkouts: number }>();
      const measured = await pairedRounds(counted, {
        concurrency, rounds, roundMs,
        onRound: (name) => {
          const variant = name as Variant;
          const shop = shops.get(variant) as Stack;
          const before = nodeCpuOf(shop);
          const collectorBefore = cpuMsOf(collector.pid);
          const startedAt = performance.now();
          // The next variant's round waits out this one's spill: its last spans are sent on its own time.
          return async (completed) => {
            await sleep(spillMs);
            const seconds = (performance.now() - startedAt) / 1000;
            const sum = cpu.get(variant) ?? { ms: new Map(), collectorMs: 0, checkouts: 0 };
            const idle = idleMsPerSecond.get(variant);
            for (const [name, ms] of serviceCpuMsBetween(before, nodeCpuOf(shop))) {
              sum.ms.set(name, (sum.ms.get(name) ?? 0) + ms - (idle?.get(name) ?? 0) * seconds);
            }
            sum.collectorMs += cpuMsOf(collector.pid) - collectorBefore;
            sum.checkouts += completed;
            cpu.set(variant, sum);
          };
        },
      });
      const cpuPerCheckout = (variant: Variant) => {
        const sum = cpu.get(variant);
        return sum === undefined || sum.checkouts === 0 ? Number.NaN : sumOf(sum.ms.values()) / sum.checkouts;
      };
      // Where it went: each service's share, to tell tracing's cost in one from noise in all.
      const perService = (variant: Variant) => {
        const sum = cpu.get(variant);
        return sum === undefined ? '' : [...sum.ms].map(([name, ms]) => `${name} ${(ms / Math.max(sum.checkouts, 1)).toFixed(2)}`).join(', ');
      };
      // The collector shares the machine's two cores with the shops: what it spends taking a
      // variant's spans is CPU the shops did not have, which its throughput ratio includes.
      const collectorCpuPerCheckout = (variant: Variant) => {
        const sum = cpu.get(variant);
        return sum === undefined || sum.checkouts === 0 ? Number.NaN : sum.collectorMs / sum.checkouts;
      };
      const rate = (variant: Variant) => measured.perSecond(variant);
      const rows: Row[] = (Object.keys(variants) as Variant[]).flatMap((variant): Row[] => [
        { variant, metric: 'checkouts', value: rate(variant), unit: 'per second', note: `${errors.get(variant) ?? 0} not 201` },
        { variant, metric: 'Node CPU per checkout', value: cpuPerCheckout(variant), unit: 'ms', note: `every service of its shop (${perService(variant)}); idle ${sumOf(idleMsPerSecond.get(variant)?.values() ?? []).toFixed(0)} ms/s taken off` },
      ]);
      for (const variant of ['tracing on, no exporter', 'tracing on, 10% sampled', 'tracing on, 100% sampled'] as const) {
        rows.push({ variant: `${variant} / off`, metric: 'throughput ratio', value: measured.pairedRatio(variant, 'tracing off'), unit: '×', note: variant.endsWith('100% sampled') ? 'target ≥ 0.85' : '' });
        rows.push({ variant: `${variant} / off`, metric: 'Node CPU per checkout ratio', value: cpuPerCheckout(variant) / cpuPerCheckout('tracing off'), unit: '×', note: '' });
      }
      for (const variant of ['tracing on, 10% sampled', 'tracing on, 100% sampled'] as const) {
        rows.push({ variant: `collector, ${variant}`, metric: 'CPU per checkout', value: collectorCpuPerCheckout(variant), unit: 'ms', note: 'the receiving process, in the variant\'s rounds and spills' });
      }
      rows.push({ variant: 'collector', metric: 'spans received', value: await collector.stop(), unit: 'spans', note: `from the ${withoutPaymentOrMedia().services.length} services of the two exporting shops` });
      return rows;
    } finally {
      await dispatcher.close();
      await Promise.all([...shops.values()].map((shop) => shop.shutdown()));
      await collector.stop();
      await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
    }
  },
};
