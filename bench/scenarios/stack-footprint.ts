import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, request } from 'undici';
import { memoryOf, processTree } from '../../packages/kit/src/testing/process-tree.ts';
import { randomPortBase, repoRoot } from '../../packages/runner/src/index.ts';
import type { Row, Scenario } from '../harness/report.ts';

// `npm start` as a new user runs it, timed and weighed: the runner process (what the root
// script execs; npm itself is not counted) with its services and database, from a new data folder (the first start:
// initdb, an empty compile cache) and again (warm), idle, then under checkout load.
//
// With BENCH_FOOTPRINT_BASELINE=<another checkout of Baton, installed> the same is measured
// there too, in the same run: that is how the PGlite figures beside these were taken (a
// checkout of e87c2e9, the last commit on PGlite).

const idleSettleMs = 5_000;
const loadMs = 60_000;
const buyers = 8;
// The seeded products with the most stock; every order is cancelled, so stock comes back.
const skus = ['FILTER-PAPER-100', 'GIFT-CARD-25', 'COFFEE-250G', 'CHOCOLATE-DARK-70', 'MUG-STONEWARE'];

interface Started {
  /** The runner: `npm start`'s child (its script execs it). npm itself is not weighed. */
  runner: { pid: number };
  gateway: string;
  readyMs: number;
  stop(): Promise<void>;
}

/** Runs `npm start` in the checkout, as a user would, and waits for "Baton is ready". */
async function startShop(checkout: string, varDir: string, cacheDir: string): Promise<Started> {
  const portBase = randomPortBase();
  const startedAt = performance.now();
  const npm = spawn('npm', ['start'], {
    cwd: checkout,
    env: {
      ...process.env,
      BATON_PORT_BASE: String(portBase), BATON_VAR_DIR: varDir, BATON_LOG_FORMAT: 'json', NODE_COMPILE_CACHE: cacheDir,
      // The bench measures the shop, not the rate limits that protect it.
      RATE_LIMIT_PER_ADDRESS_PER_MINUTE: '10000000', RATE_LIMIT_PER_USER_PER_MINUTE: '10000000',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => npm.once('exit', () => resolve()));
  const ready = new Promise<string>((resolve, reject) => {
    createInterface({ input: npm.stdout! }).on('line', (line) => {
      if (!line.includes('"baton_ready"')) return;
      resolve(String((JSON.parse(line) as { url: string }).url));
    });
    void exited.then(() => reject(new Error(`the runner in ${checkout} exited before it was ready`)));
  });
  const gateway = await ready;
  const runner = processTree(npm.pid!).find(({ command }) => command.includes('packages/runner/src/main.ts'));
  if (runner === undefined) throw new Error('no runner under npm start');
  return {
    runner, gateway, readyMs: performance.now() - startedAt,
    async stop() {
      // What a terminal's Ctrl-C does: npm passes it on to the runner.
      npm.kill('SIGINT');
      await exited;
    },
  };
}

/** RSS and PSS of the runner and everything under it, by part: runner, each service, PostgreSQL (all its processes), the rest. */
function weigh(runner: { pid: number }): Map<string, { rss: number; pss: number; processes: number }> {
  const parts = new Map<string, { rss: number; pss: number; processes: number }>();
  const add = (part: string, pid: number) => {
    const memory = memoryOf(pid);
    if (memory === undefined) return;
    const sum = parts.get(part) ?? { rss: 0, pss: 0, processes: 0 };
    parts.set(part, { rss: sum.rss + memory.rssBytes, pss: sum.pss + memory.pssBytes, processes: sum.processes + 1 });
  };
  add('runner', runner.pid);
  for (const { pid, command } of processTree(runner.pid)) {
    const service = /services\/(\w+)\/src\/main\.ts/.exec(command)?.[1];
    add(service ?? (/postgres/.test(command) ? 'postgres' : 'other'), pid);
  }
  return parts;
}

/** The sums over every part, and over the services and the database alone (what the target names; the runner is the dev tool around them). */
function totals(parts: Map<string, { rss: number; pss: number; processes: number }>): { rss: number; pss: number; shopRss: number; shopPss: number } {
  let rss = 0;
  let pss = 0;
  let shopRss = 0;
  let shopPss = 0;
  for (const [part, sum] of parts) {
    rss += sum.rss;
    pss += sum.pss;
    if (part === 'runner' || part === 'other') continue;
    shopRss += sum.rss;
    shopPss += sum.pss;
  }
  return { rss, pss, shopRss, shopPss };
}

const mb = (bytes: number) => bytes / 1024 / 1024;

async function checkoutLoad(gateway: string, forMs: number, onSecond: () => void): Promise<{ pairsPerSecond: number; refusals: number }> {
  const dispatcher = new Agent({ connections: buyers * 2 });
  const json = { 'content-type': 'application/json' };
  const email = `bench-${randomUUID()}@example.com`;
  const password = 'correct horse battery staple';
  await (await request(`${gateway}/api/v1/users`, { method: 'POST', headers: json, body: JSON.stringify({ email, password, name: 'Bench' }), dispatcher })).body.dump();
  const login = await request(`${gateway}/api/v1/auth/login`, { method: 'POST', headers: json, body: JSON.stringify({ email, password }), dispatcher });
  const { accessToken } = (await login.body.json()) as { accessToken: string };
  const authorization = `Bearer ${accessToken}`;
  let placed = 0;
  let cancelFailures = 0;
  // An order refused is a load that measures nothing: the first one's answer says why.
  let refused: string | undefined;
  let refusals = 0;
  const endAt = performance.now() + forMs;
  const sampler = setInterval(onSecond, 1_000);
  await Promise.all(Array.from({ length: buyers }, async (_, buyer) => {
    for (let i = buyer; performance.now() < endAt; i++) {
      const order = await request(`${gateway}/api/v1/orders`, {
        method: 'POST', headers: { ...json, authorization, 'idempotency-key': randomUUID() },
        // Paid with the provider's test card, as a buyer on `npm start` pays.
        body: JSON.stringify({ items: [{ sku: skus[i % skus.length], quantity: 1 }], payment: { method: 'pm_card_visa' } }), dispatcher,
      });
      if (order.statusCode !== 201) {
        const answer = await order.body.text();
        refused ??= `${order.statusCode} ${answer.slice(0, 300)}`;
        refusals += 1;
        continue;
      }
      const { id } = (await order.body.json()) as { id: string };
      placed += 1;
      // No body, so no content-type: the stock comes back, and the run never sells out.
      const cancel = await request(`${gateway}/api/v1/orders/${id}/cancel`, { method: 'POST', headers: { authorization }, dispatcher });
      await cancel.body.dump();
      if (cancel.statusCode !== 200) cancelFailures += 1;
    }
  }));
  clearInterval(sampler);
  await dispatcher.close();
  if (cancelFailures > 0) throw new Error(`${cancelFailures} cancels failed: the stock would run out and the load stop`);
  if (placed === 0) throw new Error(`no order was placed under the load; the first refusal: ${refused ?? 'none'}`);
  return { pairsPerSecond: placed / (forMs / 1_000), refusals };
}

async function measure(label: string, checkout: string): Promise<Row[]> {
  const varDir = await mkdtemp(join(tmpdir(), 'baton-bench-footprint-'));
  const cacheDir = await mkdtemp(join(tmpdir(), 'baton-bench-compile-cache-'));
  const rows: Row[] = [];
  try {
    const first = await startShop(checkout, varDir, cacheDir);
    rows.push({ variant: label, metric: 'first start to ready (new data folder, empty compile cache)', value: first.readyMs / 1_000, unit: 's' });
    await first.stop();

    const shop = await startShop(checkout, varDir, cacheDir);
    rows.push({ variant: label, metric: 'warm start to ready', value: shop.readyMs / 1_000, unit: 's' });
    try {
      await sleep(idleSettleMs);
      const idle = weigh(shop.runner);
      const idleTotal = totals(idle);
      rows.push({ variant: label, metric: 'idle, services and database: RSS', value: mb(idleTotal.shopRss), unit: 'MB', note: 'RSS counts pages shared by processes (the node binary, PostgreSQL\'s shared memory) once in each' });
      rows.push({ variant: label, metric: 'idle, services and database: PSS', value: mb(idleTotal.shopPss), unit: 'MB', note: 'shared pages divided among the processes that share them' });
      rows.push({ variant: label, metric: 'idle, with the runner: RSS', value: mb(idleTotal.rss), unit: 'MB', note: `PSS ${mb(idleTotal.pss).toFixed(0)} MB` });
      for (const [part, { rss, pss, processes }] of [...idle].toSorted((a, b) => a[0].localeCompare(b[0]))) {
        rows.push({ variant: label, metric: `idle RSS: ${part}`, value: mb(rss), unit: 'MB', note: `PSS ${mb(pss).toFixed(0)} MB, ${processes} process${processes === 1 ? '' : 'es'}` });
      }
      let peakRss = 0;
      const { pairsPerSecond, refusals } = await checkoutLoad(shop.gateway, loadMs, () => {
        peakRss = Math.max(peakRss, totals(weigh(shop.runner)).shopRss);
      });
      const loadedParts = weigh(shop.runner);
      const loaded = totals(loadedParts);
      rows.push({ variant: label, metric: `after ${loadMs / 1_000} s of checkout, services and database: RSS`, value: mb(loaded.shopRss), unit: 'MB' });
      rows.push({ variant: label, metric: `after ${loadMs / 1_000} s of checkout, services and database: PSS`, value: mb(loaded.shopPss), unit: 'MB' });
      rows.push({ variant: label, metric: `after ${loadMs / 1_000} s of checkout, with the runner: RSS`, value: mb(loaded.rss), unit: 'MB', note: `PSS ${mb(loaded.pss).toFixed(0)} MB` });
      for (const [part, { rss, pss, processes }] of [...loadedParts].toSorted((a, b) => a[0].localeCompare(b[0]))) {
        rows.push({ variant: label, metric: `after load RSS: ${part}`, value: mb(rss), unit: 'MB', note: `PSS ${mb(pss).toFixed(0)} MB, ${processes} process${processes === 1 ? '' : 'es'}` });
      }
      rows.push({ variant: label, metric: 'peak RSS of services and database during the load (sampled each second)', value: mb(peakRss), unit: 'MB' });
      rows.push({ variant: label, metric: `checkouts placed and cancelled (${buyers} buyers)`, value: pairsPerSecond, unit: 'pairs/s', note: `${refusals} orders refused` });
    } finally {
      await shop.stop();
    }
  } finally {
    await rm(varDir, { recursive: true, force: true });
    await rm(cacheDir, { recursive: true, force: true });
  }
  return rows;
}

export const stackFootprint: Scenario = {
  name: 'stack-footprint',
  description: `\`npm start\` measured as a user meets it: the runner (what the root script execs) started from a new data folder with an empty compile cache (first start), stopped with Ctrl-C and started again (warm), each timed to its "Baton is ready" line; then the memory of the runner and every process under it, idle ${idleSettleMs / 1_000} s after ready, and after ${loadMs / 1_000} s of ${buyers} buyers placing and cancelling orders through the gateway. RSS is summed over the processes (pages they share, the node binary and PostgreSQL's shared buffers, are counted once in each); PSS shares them out. Set BENCH_FOOTPRINT_BASELINE to another installed checkout to measure it beside this one in the same run.`,
  target: 'services and database idle ≤ 1 GB RSS in total; after 60 s of checkout ≤ 1.5 GB; warm start ≤ 8 s; first start ≤ 20 s',
  async run() {
    const rows: Row[] = [];
    const baseline = process.env.BENCH_FOOTPRINT_BASELINE;
    if (baseline !== undefined && baseline !== '') rows.push(...await measure('baseline', baseline));
    rows.push(...await measure('this checkout', repoRoot));
    return rows;
  },
};
