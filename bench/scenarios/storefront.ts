import { spawn } from 'node:child_process';
import { chmod, mkdtemp, open, readFile, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, request } from 'undici';
import { processTree } from '../../packages/kit/src/testing/process-tree.ts';
import { randomPortBase, repoRoot } from '../../packages/runner/src/index.ts';
import { closedLoop } from '../harness/load.ts';
import { cpuMsBetween, cpuMsOfTree } from '../harness/process-cpu.ts';
import type { Row, Scenario } from '../harness/report.ts';
import { settle } from '../harness/settle.ts';
import { median, percentile } from '../harness/stats.ts';

// Issue 22: the storefront's pages answer fast. Time to first byte of the server-rendered
// product list and a product's page, beside the public API answering the same data as JSON
// (the baseline: what rendering the page costs over what it is made from), on the shop as
// `npm start` runs it. STOREFRONT_ROUNDS (default 7), STOREFRONT_ROUND_MS (default 2000) and
// STOREFRONT_WARM_UP_MS (default 3000, each route at C=8) set the length.

const rounds = Number(process.env.STOREFRONT_ROUNDS ?? 7);
const roundMs = Number(process.env.STOREFRONT_ROUND_MS ?? 2_000);
const warmUpMs = Number(process.env.STOREFRONT_WARM_UP_MS ?? 3_000);
const targetMs = 50;

const routes = [
  { name: 'page /', path: '/', accept: 'text/html' },
  { name: 'API /api/v1/products?limit=24', path: '/api/v1/products?limit=24', accept: 'application/json' },
  { name: 'page /products/COFFEE-1KG', path: '/products/COFFEE-1KG', accept: 'text/html' },
  { name: 'API /api/v1/products/COFFEE-1KG', path: '/api/v1/products/COFFEE-1KG', accept: 'application/json' },
] as const;
type RouteName = (typeof routes)[number]['name'];
// Each page beside the API answer it is made from. The list page also asks inventory for the categories.
const pairs = [
  { label: 'product list', page: 'page /', api: 'API /api/v1/products?limit=24' },
  { label: 'product page', page: 'page /products/COFFEE-1KG', api: 'API /api/v1/products/COFFEE-1KG' },
] as const satisfies ReadonlyArray<{ label: string; page: RouteName; api: RouteName }>;
const loads = [{ label: 'C=1', concurrency: 1 }, { label: 'C=8', concurrency: 8 }] as const;

/** One request's times from just before `request()` is called, in ms. */
interface Timing { headersMs: number; firstByteMs: number; lastByteMs: number; bytes: number }

/**
 * undici's `request()` resolves once the status line and headers are in; the first body byte is
 * the first chunk its body stream hands over. The whole body is read, so the connection is kept.
 */
async function timeRequest(url: string, accept: string, dispatcher: Agent): Promise<Timing> {
  const startedAt = performance.now();
  const { statusCode, body } = await request(url, { headers: { accept }, dispatcher });
  const headersMs = performance.now() - startedAt;
  let firstByteMs = Number.NaN;
  let bytes = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    if (bytes === 0) firstByteMs = performance.now() - startedAt;
    bytes += chunk.length;
  }
  if (statusCode !== 200) throw new Error(`${url} answered ${statusCode}`);
  return { headersMs, firstByteMs, lastByteMs: performance.now() - startedAt, bytes };
}

interface Shop { gateway: string; pidOf(service: string): number; stop(): Promise<void> }

/**
 * `npm start` in this checkout, on ports and a data folder of its own (a new embedded PostgreSQL,
 * the seeded catalogue), with the gateway's rate limits lifted: the bench measures the pages, not
 * what protects them. The runner's lines go to a file, so reading them costs the bench nothing.
 */
async function startShop(workDir: string): Promise<Shop> {
  const portBase = randomPortBase();
  const logPath = join(workDir, 'runner.log');
  const log = await open(logPath, 'w');
  const npm = spawn('npm', ['start'], {
    cwd: repoRoot,
    env: {
      ...process.env,
      BATON_PORT_BASE: String(portBase), BATON_VAR_DIR: join(workDir, 'var'), BATON_LOG_FORMAT: 'json',
      RATE_LIMIT_PER_ADDRESS_PER_MINUTE: '10000000', RATE_LIMIT_PER_USER_PER_MINUTE: '10000000',
    },
    stdio: ['ignore', log.fd, 'inherit'],
  });
  await log.close();
  let exited = false;
  const exit = new Promise<void>((resolve) => npm.once('exit', () => {
    exited = true;
    resolve();
  }));
  const stop = async () => {
    // What a terminal's Ctrl-C does: npm passes it on to the runner.
    if (!exited) npm.kill('SIGINT');
    await exit;
  };
  for (const deadline = performance.now() + 180_000; ;) {
    const lines = await readFile(logPath, 'utf8');
    const ready = lines.split('\n').find((line) => line.includes('"baton_ready"'));
    if (ready !== undefined) {
      const gateway = String((JSON.parse(ready) as { url: string }).url);
      const services = processTree(npm.pid as number);
      const pidOf = (service: string) => services.find(({ command }) => command.includes(`services/${service}/src/main.ts`))?.pid ?? 0;
      return { gateway, pidOf, stop };
    }
    if (exited || performance.now() > deadline) {
      await stop();
      throw new Error(`npm start was not ready${exited ? ' (it exited)' : ' in 180 s'}; its last lines:\n${lines.split('\n').slice(-10).join('\n')}`);
    }
    await sleep(250);
  }
}

/** What the rounds of one route at one load gathered. */
interface Tally { timings: Timing[]; firstByteP50ByRound: number[]; perSecondByRound: number[]; errors: number; requests: number; cpuMs: Map<string, number> }
const emptyTally = (): Tally => ({ timings: [], firstByteP50ByRound: [], perSecondByRound: [], errors: 0, requests: 0, cpuMs: new Map() });
const measuredServices = ['gateway', 'inventory'] as const;

async function measureRound(url: string, accept: string, { concurrency, durationMs }: { concurrency: number; durationMs: number }, dispatcher: Agent, shop: Shop, tally: Tally): Promise<void> {
  const timings: Timing[] = [];
  const before = measuredServices.map((service) => cpuMsOfTree(shop.pidOf(service)));
  const { perSecond, errors } = await closedLoop(async () => {
    timings.push(await timeRequest(url, accept, dispatcher));
  }, { concurrency, durationMs });
  measuredServices.forEach((service, i) => {
    const used = cpuMsBetween(before[i] as Map<number, number>, cpuMsOfTree(shop.pidOf(service)));
    tally.cpuMs.set(service, (tally.cpuMs.get(service) ?? 0) + used);
  });
  tally.timings.push(...timings);
  tally.firstByteP50ByRound.push(percentile(timings.map((t) => t.firstByteMs).sort((a, b) => a - b), 50));
  tally.perSecondByRound.push(perSecond);
  tally.errors += errors;
  tally.requests += timings.length;
}

const sorted = (values: readonly number[]) => [...values].sort((a, b) => a - b);

function rowsOf(load: string, route: RouteName, tally: Tally): Row[] {
  const variant = `${load}, ${route}`;
  const firstBytes = sorted(tally.timings.map((t) => t.firstByteMs));
  const verdict = (valueMs: number) => (route === 'page /' ? `target ≤ ${targetMs} ms: ${valueMs <= targetMs ? 'met' : 'not met'}` : '');
  return [
    { variant, metric: 'first byte p50', value: percentile(firstBytes, 50), unit: 'ms', note: `${tally.requests} requests over ${rounds} rounds, ${tally.errors} failed; ${verdict(percentile(firstBytes, 50))}` },
    { variant, metric: 'first byte p95', value: percentile(firstBytes, 95), unit: 'ms' },
    { variant, metric: 'first byte p99', value: percentile(firstBytes, 99), unit: 'ms', note: verdict(percentile(firstBytes, 99)) },
    { variant, metric: 'headers p50', value: percentile(sorted(tally.timings.map((t) => t.headersMs)), 50), unit: 'ms', note: 'when undici\'s request() resolved' },
    { variant, metric: 'last byte p50', value: percentile(sorted(tally.timings.map((t) => t.lastByteMs)), 50), unit: 'ms' },
    { variant, metric: 'body', value: median(tally.timings.map((t) => t.bytes)), unit: 'bytes' },
    { variant, metric: 'requests/s', value: median(tally.perSecondByRound), unit: 'per second', note: 'median of the rounds' },
    ...measuredServices.map((service) => ({ variant, metric: `CPU per request, ${service}`, value: ((tally.cpuMs.get(service) ?? 0) * 1_000) / tally.requests, unit: 'µs', note: 'from /proc, over the timed rounds (10 ms ticks)' })),
  ];
}

function ratioRows(load: string, tallies: Map<RouteName, Tally>): Row[] {
  return pairs.flatMap(({ label, page, api }) => {
    const pageTally = tallies.get(page) as Tally;
    const apiTally = tallies.get(api) as Tally;
    const pooled = (tally: Tally, p: number) => percentile(sorted(tally.timings.map((t) => t.firstByteMs)), p);
    const variant = `${load}, ${label}: page / API`;
    return [
      { variant, metric: 'first byte p50 ratio', value: median(pageTally.firstByteP50ByRound.map((value, round) => value / (apiTally.firstByteP50ByRound[round] ?? Number.NaN))), unit: '×', note: `median of the rounds' own ratios; pooled p50s ${(pooled(pageTally, 50) / pooled(apiTally, 50)).toFixed(2)}×` },
      { variant, metric: 'first byte p99 ratio', value: pooled(pageTally, 99) / pooled(apiTally, 99), unit: '×', note: 'pooled over the rounds' },
    ];
  });
}

const valueOf = (rows: readonly Row[], variant: string, metric: string) => rows.find((row) => row.variant === variant && row.metric === metric)?.value ?? Number.NaN;

function summary(rows: readonly Row[]): string {
  const ms = (value: number) => value.toFixed(1);
  const lines = ['| load | route | first byte p50 / p95 / p99 ms | last byte p50 ms | requests/s | gateway CPU µs per request | target ≤ 50 ms |', '|---|---|---|---|---|---|---|'];
  for (const { label } of loads) {
    for (const { name } of routes) {
      const v = `${label}, ${name}`;
      const p99 = valueOf(rows, v, 'first byte p99');
      const p50 = valueOf(rows, v, 'first byte p50');
      const target = name === 'page /' ? `p50 ${p50 <= targetMs ? 'met' : 'not met'}, p99 ${p99 <= targetMs ? 'met' : 'not met'}` : '';
      lines.push(`| ${label} | ${name} | ${ms(p50)} / ${ms(valueOf(rows, v, 'first byte p95'))} / ${ms(p99)} | ${ms(valueOf(rows, v, 'last byte p50'))} | ${valueOf(rows, v, 'requests/s').toFixed(0)} | ${valueOf(rows, v, 'CPU per request, gateway').toFixed(0)} | ${target} |`);
    }
  }
  lines.push('');
  for (const { label } of loads) {
    for (const pair of pairs) {
      const v = `${label}, ${pair.label}: page / API`;
      lines.push(`${label}, ${pair.label}: page / API first byte p50 ${valueOf(rows, v, 'first byte p50 ratio').toFixed(2)}×, p99 ${valueOf(rows, v, 'first byte p99 ratio').toFixed(2)}×`);
    }
  }
  lines.push(`load average (1 min): ${valueOf(rows, 'machine', 'load average before').toFixed(2)} before, ${valueOf(rows, 'machine', 'load average after').toFixed(2)} after`);
  const c1 = `${loads[0].label}, page /`;
  lines.push('', `storefront: product list first byte p50 ${ms(valueOf(rows, c1, 'first byte p50'))} ms, p99 ${ms(valueOf(rows, c1, 'first byte p99'))} ms (C=1); page/API p50 ratio ${valueOf(rows, `${loads[0].label}, product list: page / API`, 'first byte p50 ratio').toFixed(2)}`);
  return lines.join('\n');
}

export const storefront: Scenario = {
  name: 'storefront',
  description: `Issue 22: time to first byte of the storefront's pages, on the whole shop as \`npm start\` runs it (a new data folder, spans sent to the runner's trace view, the gateway's rate limits lifted). An anonymous shopper (no cookies kept) asks for the product list \`GET /\` (the gateway asks inventory for 24 products and the categories and renders them with preact-render-to-string) and a product's page \`GET /products/COFFEE-1KG\`; beside them the public API's JSON of the same data, \`GET /api/v1/products?limit=24\` and \`GET /api/v1/products/COFFEE-1KG\`, is the baseline. After ${warmUpMs} ms of each route at C=8, for C=1 (a shopper's view) and C=8, ${rounds} rounds of ${roundMs} ms per route, the routes' order rotating each round, a pause and a GC in the bench before each. First byte: from just before undici's \`request()\` to the first chunk of the body (headers: when \`request()\` resolved), over keep-alive connections on loopback. Percentiles pool the rounds; the p50 ratio is the median of the rounds' own ratios. CPU per request of the gateway and inventory from /proc.`,
  target: `product list first byte ≤ ${targetMs} ms (issue 22), read at C=1, p50 and p99; C=8 reported beside it. The page/API ratio has no target: what rendering the page costs over its JSON`,
  summary,
  async run() {
    const workDir = await mkdtemp(join(tmpdir(), 'baton-bench-storefront-'));
    // mkdtemp makes it 0700; run as root, the runner gives PostgreSQL to another user, who must reach var/ inside.
    await chmod(workDir, 0o755);
    const rows: Row[] = [];
    const loadBefore = loadavg();
    let shop: Shop | undefined;
    const dispatcher = new Agent({ connections: 16 });
    try {
      shop = await startShop(workDir);
      const urlOf = (path: string) => `${(shop as Shop).gateway}${path}`;
      // An error page can be fast too: the list must list products, in both forms.
      const listed = await request(urlOf('/'), { dispatcher });
      const html = await listed.body.text();
      const api = (await (await request(urlOf('/api/v1/products?limit=24'), { dispatcher })).body.json()) as { items?: unknown[] };
      const productsOnPage = new Set(html.match(/href="\/products\/[A-Z0-9-]+"/g) ?? []).size;
      if (listed.statusCode !== 200 || productsOnPage === 0 || (api.items?.length ?? 0) === 0) throw new Error(`the product list is not served: / answered ${listed.statusCode} with ${productsOnPage} products, the API ${api.items?.length ?? 0}`);
      rows.push({ variant: 'product list', metric: 'products on the page / in the API answer', value: productsOnPage, unit: 'products', note: `API: ${api.items?.length ?? 0}` });

      for (const route of routes) await closedLoop(() => timeRequest(urlOf(route.path), route.accept, dispatcher), { concurrency: 8, durationMs: warmUpMs });
      for (const load of loads) {
        const tallies = new Map<RouteName, Tally>(routes.map((route) => [route.name, emptyTally()]));
        for (let round = 0; round < rounds; round++) {
          for (let i = 0; i < routes.length; i++) {
            const route = routes[(round + i) % routes.length] as (typeof routes)[number];
            await settle(100);
            await measureRound(urlOf(route.path), route.accept, { concurrency: load.concurrency, durationMs: roundMs }, dispatcher, shop, tallies.get(route.name) as Tally);
          }
        }
        for (const route of routes) rows.push(...rowsOf(load.label, route.name, tallies.get(route.name) as Tally));
        rows.push(...ratioRows(load.label, tallies));
      }
      const loadAfter = loadavg();
      rows.push(
        { variant: 'machine', metric: 'load average before', value: loadBefore[0] as number, unit: '1 min', note: `5 min ${(loadBefore[1] as number).toFixed(2)}; before the shop started` },
        { variant: 'machine', metric: 'load average after', value: loadAfter[0] as number, unit: '1 min', note: `5 min ${(loadAfter[1] as number).toFixed(2)}; after the timed rounds, the shop still up` },
      );
      return rows;
    } finally {
      await dispatcher.close();
      await shop?.stop();
      await rm(workDir, { recursive: true, force: true });
    }
  },
};
