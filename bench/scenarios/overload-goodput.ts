import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { databaseConfigFields, loadConfig, serviceConfigFields, z } from '../../packages/kit/src/config/index.ts';
import { signalOf, startService, type ServiceDefinition } from '../../packages/kit/src/service/index.ts';
import { createLogger } from '../../packages/kit/src/telemetry/index.ts';
import { createAdaptiveLimiter } from '../../packages/kit/src/resilience/index.ts';
import { closedLoop, openLoop } from '../harness/load.ts';
import type { Row, Scenario } from '../harness/report.ts';
import { summarize } from '../harness/stats.ts';
import { createBenchDatabase } from '../harness/database.ts';

// A service whose capacity is known by construction: `slots` requests at a time, `workMs` each.
const slots = 4;
const workMs = 20;
const clientDeadlineMs = 500;
const phaseMs = 4_000;

const configSchema = z.object({ ...serviceConfigFields({ name: 'bench-capacity', port: 0 }), ...databaseConfigFields() });

function capacityDefinition(migrationsDir: string): ServiceDefinition<z.output<typeof configSchema>> {
  let free = slots;
  const waiting: Array<() => void> = [];
  const release = () => { const next = waiting.shift(); if (next) next(); else free += 1; };
  return {
    name: 'bench-capacity',
    migrationsDir,
    setup(app) {
      app.get('/work', async (request) => {
        const signal = signalOf(request);
        if (free > 0) free -= 1;
        else await new Promise<void>((resolve, reject) => {
          const onAbort = () => { const i = waiting.indexOf(grant); if (i >= 0) waiting.splice(i, 1); reject(signal.reason); };
          const grant = () => { signal.removeEventListener('abort', onAbort); resolve(); };
          waiting.push(grant);
          signal.addEventListener('abort', onAbort, { once: true });
        });
        try {
          await new Promise((resolve) => setTimeout(resolve, workMs));
          return { ok: true };
        } finally {
          release();
        }
      });
    },
  };
}

async function measure(loadShedding: boolean, dir: string, ratesPerSecond: (capacity: number) => number[], capacityKnown?: number) {
  const migrationsDir = join(dir, 'migrations');
  await mkdir(migrationsDir, { recursive: true });
  await writeFile(join(migrationsDir, '0001_nothing.sql'), 'create table if not exists bench_nothing (id int);');
  const database = await createBenchDatabase();
  const config = loadConfig(configSchema, { HOST: '127.0.0.1', PORT: '0', DATABASE_URL: database.url, LOAD_SHEDDING: String(loadShedding) });
  const service = await startService(capacityDefinition(migrationsDir), config, { logger: createLogger({ service: 'bench', level: 'silent' }) })
    .catch(async (error: unknown) => {
      await database.drop();
      throw error;
    });
  const agent = new Agent({ connections: 2_000 });
  const call = async () => {
    const res = await request(`${service.url}/work`, {
      headers: { 'x-baton-timeout-ms': String(clientDeadlineMs) },
      signal: AbortSignal.timeout(clientDeadlineMs),
      dispatcher: agent,
    });
    await res.body.dump();
    return res.statusCode;
  };
  const capacity = capacityKnown ?? (await closedLoop(async () => { if ((await call()) !== 200) throw new Error('not ok'); }, { concurrency: slots * 2, durationMs: phaseMs })).perSecond;
  const results: Array<{ rate: number; goodput: number; shed: number; shedP50Ms: number; servedP50Ms: number }> = [];
  for (const rate of ratesPerSecond(capacity)) {
    const outcomes = await openLoop(call, { ratePerSecond: rate, durationMs: phaseMs });
    const good = outcomes.filter((o) => o.ok && o.value === 200 && o.latencyMs <= clientDeadlineMs).length;
    const shedLatencies = outcomes.filter((o) => o.ok && o.value === 503).map((o) => o.latencyMs);
    const servedLatencies = outcomes.filter((o) => o.ok && o.value === 200).map((o) => o.latencyMs);
    results.push({
      rate,
      goodput: good / (phaseMs / 1000),
      shed: shedLatencies.length,
      shedP50Ms: summarize(shedLatencies).p50Ms,
      servedP50Ms: summarize(servedLatencies).p50Ms,
    });
  }
  await agent.close();
  await service.shutdown('bench over');
  await database.drop();
  return { capacity, results };
}

export const overloadGoodput: Scenario = {
  name: 'overload-goodput',
  description: `A real kit service whose route can serve ${slots} requests at a time, ${workMs} ms each. Its capacity is measured first (closed loop); then requests arrive at 2× and 5× that rate (open loop, ${phaseMs} ms each), every one with a ${clientDeadlineMs} ms deadline sent as \`x-baton-timeout-ms\` and enforced by the client. Goodput = answers 200 within the deadline per second, as a share of capacity; load shedding on vs off.`,
  target: 'at 2× overload, goodput ≥ 90% of capacity with shedding on',
  async run() {
    const dir = await mkdtemp(join(tmpdir(), 'baton-bench-'));
    try {
      const on = await measure(true, dir, (c) => [2 * c, 5 * c]);
      const off = await measure(false, dir, (c) => [2 * c, 5 * c], on.capacity);
      const rows: Row[] = [{ variant: 'capacity (closed loop)', metric: 'goodput', value: on.capacity, unit: 'requests/s' }];
      for (const [variant, run] of [['shedding on', on], ['shedding off', off]] as const) {
        for (const [index, factor] of ['2×', '5×'].entries()) {
          const r = run.results[index];
          if (!r) continue;
          rows.push({ variant: `${variant}, ${factor} capacity`, metric: 'goodput / capacity', value: r.goodput / on.capacity, unit: '×', note: `${Math.round(r.rate)} req/s offered, ${r.shed} shed with 503` });
        }
      }
      for (const [index, factor] of ['2×', '5×'].entries()) {
        const r = on.results[index];
        if (r === undefined || r.shed === 0) continue;
        rows.push({ variant: `shedding on, ${factor} capacity`, metric: 'answer p50: shed 503 vs served 200', value: r.shedP50Ms / r.servedP50Ms, unit: '×', note: `shed ${r.shedP50Ms.toFixed(2)} ms, served ${r.servedP50Ms.toFixed(2)} ms, seen by the client over loopback` });
      }
      rows.push(shedDecisionCost());
      return rows;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
};

// The shedding decision alone, in-process: what a shed request costs the server before its
// prebuilt 503 is written, against an empty loop measured the same way.
function shedDecisionCost(): Row {
  const limiter = createAdaptiveLimiter({ initialLimit: 4, minLimit: 4, maxLimit: 4 });
  for (let i = 0; i < 4; i++) limiter.acquire('high');
  const calls = 1_000_000;
  let shedCount = 0;
  const timeNs = (fn: () => void) => {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < calls; i++) fn();
    return Number(process.hrtime.bigint() - t0) / calls;
  };
  const emptyNs = timeNs(() => { shedCount += 0; });
  const shedNs = timeNs(() => { if (limiter.acquire('low') === undefined) shedCount++; });
  return { variant: 'limiter.acquire when full', metric: 'cost per shed decision', value: Math.max(0, shedNs - emptyNs), unit: 'ns', note: `${shedCount} shed; target: well under a millisecond (1,000,000 ns)` };
}
