import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { Agent } from 'undici';
import { testIdentity } from '../../packages/kit/src/testing/service-identity.ts';
import { machineCpu, type MachineCpu } from '../harness/process-cpu.ts';
import type { Row, Scenario } from '../harness/report.ts';
import { median, percentile } from '../harness/stats.ts';
import { runPairs } from './checkout-vs-bare/pairs.ts';
import { signIn, startBaton, type BatonSide } from './checkout-vs-bare/sides.ts';
import { emptyTally, measureRound, type Tally } from './checkout-vs-bare/tally.ts';
import { growthOver, residentOf, sampleRss, type RssSampler } from './checkout-beside-uploads/rss.ts';
import { drain, gatewayHasUploadRoute, insideOrdersBacklog, insideOrdersPort, insideOrdersStats, insideOrdersTarget, mediaBacklog, mediaTarget, type InsideOrdersStats, type MediaRoute, type RenderBacklog } from './checkout-beside-uploads/targets.ts';
import { megabytesPerSecond, noisePng, startUploaders, type UploadsDone, type UploadTarget } from './checkout-beside-uploads/uploaders.ts';

// Issue 21: checkout alone, checkout while ten 50 MB uploads run to the media service, and the
// same uploads taken inside the orders process (a throwaway variant, only here: see
// checkout-beside-uploads/uploads-in-orders.ts), on one shop, in rounds that rotate the three.
// CHECKOUT_BESIDE_UPLOADS_ROUNDS (3), _ROUND_MS (8000) and _BUYERS (4) set the length and the
// load; CHECKOUT_BESIDE_UPLOADS_VIA=media sends phase 2's uploads straight to media's own route
// instead of the gateway's public one.

const rounds = Number(process.env.CHECKOUT_BESIDE_UPLOADS_ROUNDS ?? 3);
const roundMs = Number(process.env.CHECKOUT_BESIDE_UPLOADS_ROUND_MS ?? 8_000);
const buyers = Number(process.env.CHECKOUT_BESIDE_UPLOADS_BUYERS ?? 4);
const via: MediaRoute = process.env.CHECKOUT_BESIDE_UPLOADS_VIA === 'media' ? 'media' : 'gateway';
const uploaderCount = 10;
const warmUpMs = Math.min(roundMs, 2_000);
// Longer than any backlog a round of these lengths leaves; past it the next round starts anyway, and the report says so.
const drainTimeoutMs = 120_000;

// A product per buyer (checkout-payment's), so no stock row's lock is what is measured.
const checkoutSkus = ['COFFEE-1KG', 'COFFEE-250G', 'COFFEE-DECAF-500G', 'TEA-GREEN-100G', 'TEA-EARLGREY-100G', 'TEA-CHAMOMILE-50G',
  'MUG-STONEWARE', 'MUG-TRAVEL', 'DRIPPER-CERAMIC', 'FILTER-PAPER-100', 'FRENCH-PRESS-1L', 'INFUSER-STEEL', 'CANISTER-AIRTIGHT',
  'MILK-FROTHER', 'CHOCOLATE-DARK-70', 'GIFT-CARD-25'];
// Images go to products no buyer orders: inventory appends each ready image to its product's row,
// under that row's lock, which checkout's reservation takes too (that contention is not this measure).
const imageSkus = ['GRINDER-BURR', 'KETTLE-GOOSENECK', 'MOKA-POT-6', 'SCALE-DIGITAL', 'TEAPOT-CAST-IRON', 'BISCOTTI-ALMOND', 'HONEY-ACACIA-250G', 'TOTE-CANVAS'];
const skuOf = (buyer: number) => checkoutSkus[buyer % checkoutSkus.length] as string;

const alone = 'checkout alone';
const besideMedia = 'beside uploads to media';
const insideOrders = 'uploads inside orders';
const phases = [alone, besideMedia, insideOrders] as const;
type Phase = (typeof phases)[number];

/** What one phase did over its rounds. */
interface PhaseRecord {
  tally: Tally;
  /** Wall time of its timed rounds, to turn CPU ms into cores. */
  roundSeconds: number;
  benchCpuMs: number;
  /** The whole machine's CPU over the timed rounds: the shop, the bench, the kernel's threads, anyone else's work. */
  machine: MachineCpu;
  /** Orders' event loop delay in each timed round (measured by the server preloaded into it). */
  ordersLoopDelay: Array<InsideOrdersStats['loopDelayMs']>;
  uploads: UploadsDone[];
  drains: Array<{ ms: number; left: number }>;
  /** The process the uploads went to, sampled during its rounds (uploads and the renders after). */
  rss: RssSampler[];
}

const emptyRecord = (): PhaseRecord => ({
  tally: emptyTally(), roundSeconds: 0, benchCpuMs: 0, machine: { busyMs: 0, stealMs: 0, idleMs: 0, iowaitMs: 0 }, ordersLoopDelay: [], uploads: [], drains: [], rss: [],
});
const mb = (bytes: number) => bytes / 1e6;

/** The report's last line: each upload phase's order p99 over checkout alone's, and media's RSS growth. */
export function summaryLine({ mediaRatio, insideRatio, mediaGrowthMb }: { mediaRatio: number; insideRatio: number; mediaGrowthMb: number }): string {
  return `checkout-beside-uploads: p99 ratio with media ${mediaRatio.toFixed(2)}, inside orders ${insideRatio.toFixed(2)}; media RSS +${mediaGrowthMb.toFixed(0)} MB`;
}

/** The phase's uploads summed over its rounds. */
export function sumUploads(uploads: readonly UploadsDone[]): UploadsDone {
  return uploads.reduce((sum, u) => ({
    completed: sum.completed + u.completed, failed: sum.failed + u.failed, bytes: sum.bytes + u.bytes, seconds: sum.seconds + u.seconds,
    latenciesMs: [...sum.latenciesMs, ...u.latenciesMs], refusals: [...sum.refusals, ...u.refusals],
  }), { completed: 0, failed: 0, bytes: 0, seconds: 0, latenciesMs: [], refusals: [] });
}

function rowsOf(phase: Phase, record: PhaseRecord, baseline: PhaseRecord, uploadsTo: string): Row[] {
  const { tally } = record;
  const sorted = (values: readonly number[]) => [...values].sort((a, b) => a - b);
  const latencies = sorted(tally.orderLatenciesMs);
  const baseLatencies = sorted(baseline.tally.orderLatenciesMs);
  const rows: Row[] = [
    { variant: phase, metric: 'pairs/s', value: median(tally.pairsPerSecond), unit: 'per second', note: `median of ${tally.pairsPerSecond.length} rounds of ${roundMs} ms; ${tally.pairs} pairs, ${tally.failures} failed; C=${buyers}` },
    { variant: phase, metric: 'order p50', value: percentile(latencies, 50), unit: 'ms' },
    { variant: phase, metric: 'order p99', value: percentile(latencies, 99), unit: 'ms', note: `of ${latencies.length} orders` },
  ];
  if (phase !== alone) {
    rows.push(
      { variant: phase, metric: 'order p99 / alone', value: percentile(latencies, 99) / percentile(baseLatencies, 99), unit: '×' },
      { variant: phase, metric: 'order p50 / alone', value: percentile(latencies, 50) / percentile(baseLatencies, 50), unit: '×' },
      { variant: phase, metric: 'pairs/s / alone', value: median(tally.pairsPerSecond.map((value, i) => value / (baseline.tally.pairsPerSecond[i] ?? Number.NaN))), unit: '×', note: "median of the rounds' own ratios" },
    );
    const uploads = sumUploads(record.uploads);
    rows.push(
      { variant: phase, metric: 'uploads completed', value: uploads.completed, unit: 'uploads', note: `${uploadsTo}; ${uploaderCount} uploaders; ${uploads.failed} refused or failed${uploads.refusals.length > 0 ? `: ${uploads.refusals.slice(0, 2).map((refusal) => refusal.replaceAll('|', '/')).join(' / ')}` : ''}` },
      { variant: phase, metric: 'uploaded', value: megabytesPerSecond(uploads), unit: 'MB/s', note: `${mb(uploads.bytes).toFixed(0)} MB in ${uploads.seconds.toFixed(1)} s, from the first byte to the last answer` },
      { variant: phase, metric: 'upload time p50', value: percentile(sorted(uploads.latenciesMs), 50), unit: 'ms', note: `p99 ${percentile(sorted(uploads.latenciesMs), 99).toFixed(0)} ms` },
      { variant: phase, metric: 'renders left when the uploads stopped: time to finish them', value: median(record.drains.map((d) => d.ms)), unit: 'ms', note: `median; each round: ${record.drains.map((d) => `${(d.ms / 1000).toFixed(1)} s${d.left > 0 ? ` (${d.left} still left)` : ''}`).join(', ')}` },
    );
  }
  const cores = (ms: number) => ms / 1000 / record.roundSeconds;
  for (const [name, ms] of tally.cpuMs) rows.push({ variant: phase, metric: `CPU, ${name === 'postgres' ? 'PostgreSQL (server and backends)' : name}`, value: cores(ms), unit: 'cores', note: 'average over the timed rounds' });
  rows.push({ variant: phase, metric: 'CPU, the bench process (buyers and uploaders)', value: cores(record.benchCpuMs), unit: 'cores' });
  const ours = [...tally.cpuMs.values()].reduce((sum, ms) => sum + ms, 0) + record.benchCpuMs;
  const { busyMs, stealMs, iowaitMs } = record.machine;
  rows.push(
    { variant: phase, metric: 'CPU, whole machine busy', value: cores(busyMs), unit: 'cores', note: `of 2; steal ${cores(stealMs).toFixed(2)}, idle waiting for the disk ${cores(iowaitMs).toFixed(2)}` },
    { variant: phase, metric: "CPU, outside the shop's processes and the bench", value: cores(busyMs - ours), unit: 'cores', note: "the kernel's own threads (writeback, network), other work on the machine" },
  );
  const delays = record.ordersLoopDelay;
  if (delays.length > 0) {
    rows.push({ variant: phase, metric: "orders' event loop delay p99", value: median(delays.map((d) => d.p99)), unit: 'ms', note: `median of the rounds' p99 (each round: ${delays.map((d) => d.p99.toFixed(1)).join(', ')}); p50 ${median(delays.map((d) => d.p50)).toFixed(1)} ms, max ${Math.max(...delays.map((d) => d.max)).toFixed(0)} ms` });
  }
  return rows;
}

function rssRows(phase: Phase, processName: string, samplers: readonly RssSampler[], peakBefore: number | undefined, peakAfter: number | undefined): Row[] {
  const first = samplers[0];
  if (first === undefined) return [];
  const all = samplers.flatMap((s) => s.samplesBytes);
  return [
    { variant: phase, metric: `${processName} RSS growth during the uploads`, value: mb(growthOver(first.baselineBytes, all)), unit: 'MB', note: `max VmRSS ${mb(Math.max(...all)).toFixed(0)} MB − ${mb(first.baselineBytes).toFixed(0)} MB before the first upload; sampled every 500 ms over the uploads and the renders after (${all.length} samples)` },
    { variant: phase, metric: `${processName} RSS before each upload round`, value: mb(first.baselineBytes), unit: 'MB', note: samplers.map((s) => `${mb(s.baselineBytes).toFixed(0)}`).join(', ') },
    ...(peakBefore === undefined || peakAfter === undefined ? [] : [{ variant: phase, metric: `${processName} peak RSS (VmHWM) growth`, value: mb(peakAfter - peakBefore), unit: 'MB', note: `VmHWM ${mb(peakBefore).toFixed(0)} → ${mb(peakAfter).toFixed(0)} MB: the kernel's peak, between samples too` }]),
  ];
}

const valueOf = (rows: readonly Row[], variant: string, metric: string) => rows.find((row) => row.variant === variant && row.metric === metric)?.value ?? Number.NaN;

function summary(rows: readonly Row[]): string {
  const lines = ['| phase | pairs/s | order p50 ms | order p99 ms | p99 / alone | uploads | MB/s | RSS growth |', '|---|---|---|---|---|---|---|---|'];
  for (const phase of phases) {
    const v = (metric: string) => valueOf(rows, phase, metric);
    const rss = phase === besideMedia ? `media +${v('media RSS growth during the uploads').toFixed(0)} MB` : phase === insideOrders ? `orders +${v('orders RSS growth during the uploads').toFixed(0)} MB` : '';
    lines.push(`| ${phase} | ${v('pairs/s').toFixed(1)} | ${v('order p50').toFixed(1)} | ${v('order p99').toFixed(1)} | ${phase === alone ? '' : `${v('order p99 / alone').toFixed(2)}×`} | ${phase === alone ? '' : v('uploads completed').toFixed(0)} | ${phase === alone ? '' : v('uploaded').toFixed(0)} | ${rss} |`);
  }
  lines.push('', summaryLine({
    mediaRatio: valueOf(rows, besideMedia, 'order p99 / alone'),
    insideRatio: valueOf(rows, insideOrders, 'order p99 / alone'),
    mediaGrowthMb: valueOf(rows, besideMedia, 'media RSS growth during the uploads'),
  }));
  return lines.join('\n');
}

/** How many of media's images ended in each status (ready, failed, processing): the renders' outcome, from its database. */
async function imageStatuses(side: BatonSide): Promise<Map<string, number>> {
  const url = side.stack.database.services.get('media')?.url;
  if (url === undefined) throw new Error('media has no database');
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => {});
  await client.connect();
  try {
    const { rows } = await client.query<{ status: string; n: string }>('select status, count(*) as n from images group by status order by status');
    return new Map(rows.map(({ status, n }) => [status, Number(n)]));
  } finally {
    await client.end();
  }
}

export const checkoutBesideUploads: Scenario = {
  name: 'checkout-beside-uploads',
  description: `Issue 21. An order placed and cancelled through the gateway (a pair) by ${buyers} buyers, each on a product of its own, on one Baton shop with media (no payment), in three phases: checkout alone; checkout while ${uploaderCount} uploaders each send a 4000 × 4000 PNG of noise (48 MB, stored uncompressed) to media, wait for its answer and send it again (${via === 'gateway' ? "through the gateway's public route" : "straight to media's own route with the gateway's service token, as the gateway would: no gateway hop"}); and the same uploads taken inside the orders process (a bench-only server preloaded into it, media's own check, store and renderer, rendering each image right after it is stored, its uploads sharing the gateway's bandwidth bound (UPLOAD_BYTES_PER_SECOND, 40 MB/s by default, 0 for none, as the gateway reads it); no gateway hop, no token check, no database row). ${rounds} rounds of ${roundMs} ms each, the three phases' order rotating every round; an upload round's clock starts once the first upload has been answered (so renders run too), and after it the uploaders finish what they are sending and the renders left are waited for before the next round. RSS of the process taking the uploads from /proc/<pid>/status every 500 ms; CPU per process from /proc/<pid>/stat over the timed rounds.`,
  target: 'checkout p99 beside the uploads to media ≤ 1.5× checkout alone; media RSS grows by < 100 MB during the uploads',
  summary,
  async run() {
    const dispatcher = new Agent({ connections: 64 });
    const uploadDispatcher = new Agent({ connections: uploaderCount * 2 });
    const own = await mkdtemp(join(tmpdir(), 'baton-bench-uploads-'));
    const portFile = join(own, 'port');
    const staffEmail = `staff-${randomUUID()}@example.com`;
    let side: BatonSide | undefined;
    try {
      side = await startBaton(dispatcher, {}, {
        media: true, name: 'Baton with media',
        serviceEnv: {
          users: { STAFF_EMAILS: staffEmail },
          // The runner puts its own V8 flag ahead of the inherited NODE_OPTIONS; a service's own
          // NODE_OPTIONS replaces both, so the flag is given again here.
          orders: {
            NODE_OPTIONS: ['--max-semi-space-size=8', process.env.NODE_OPTIONS, `--import=${pathToFileURL(join(import.meta.dirname, 'checkout-beside-uploads', 'uploads-in-orders.ts')).href}`].filter(Boolean).join(' '),
            BENCH_UPLOADS_IN_ORDERS_PORT_FILE: portFile,
            BENCH_UPLOADS_IN_ORDERS_DIR: join(own, 'store'),
          },
        },
        // Media trusts the test identity's gateway key, so the bench can call it as the gateway.
        ...(via === 'media' ? { serviceKeys: { gateway: testIdentity.keyPair('gateway') } } : {}),
      });
      const { stack } = side;
      if (via === 'gateway' && !(await gatewayHasUploadRoute(stack, dispatcher))) {
        throw new Error("the gateway has no POST /api/v1/products/{sku}/images yet (404): run with CHECKOUT_BESIDE_UPLOADS_VIA=media to send the uploads straight to media's own route");
      }
      const staffToken = await signIn(side.gateway, dispatcher, staffEmail);
      const port = await insideOrdersPort(portFile);
      const image = await noisePng();
      if (image.length > 50 * 1024 * 1024) throw new Error(`the test image is ${image.length} bytes, over media's 50 MiB`);
      const pidOf = (name: 'media' | 'orders') => {
        const pid = stack.status(name).pid;
        if (pid === undefined) throw new Error(`${name} is not running`);
        return pid;
      };
      const uploadsOf: Record<Exclude<Phase, typeof alone>, { target: UploadTarget; backlog: RenderBacklog; pid: number }> = {
        [besideMedia]: { target: mediaTarget(stack, via, staffToken), backlog: mediaBacklog(stack, dispatcher), pid: pidOf('media') },
        [insideOrders]: { target: insideOrdersTarget(port), backlog: insideOrdersBacklog(port, dispatcher), pid: pidOf('orders') },
      };
      const peaksBefore = { media: residentOf(pidOf('media'))?.peakBytes, orders: residentOf(pidOf('orders'))?.peakBytes };

      const records = new Map<Phase, PhaseRecord>(phases.map((phase) => [phase, emptyRecord()]));
      const load = { concurrency: buyers, durationMs: roundMs, skuOf };
      await runPairs(side, dispatcher, { ...load, durationMs: warmUpMs });
      for (let round = 0; round < rounds; round++) {
        for (let i = 0; i < phases.length; i++) {
          const phase = phases[(round + i) % phases.length] as Phase;
          const record = records.get(phase) as PhaseRecord;
          const timed = async () => {
            await insideOrdersStats(port, dispatcher, { reset: true });
            const machineBefore = machineCpu();
            const cpuBefore = process.cpuUsage();
            const startedAt = performance.now();
            await measureRound(side as BatonSide, dispatcher, load, record.tally);
            record.roundSeconds += (performance.now() - startedAt) / 1000;
            const cpu = process.cpuUsage(cpuBefore);
            record.benchCpuMs += (cpu.user + cpu.system) / 1000;
            const machineAfter = machineCpu();
            for (const field of ['busyMs', 'stealMs', 'idleMs', 'iowaitMs'] as const) record.machine[field] += machineAfter[field] - machineBefore[field];
            record.ordersLoopDelay.push((await insideOrdersStats(port, dispatcher)).loopDelayMs);
          };
          if (phase === alone) {
            await timed();
            continue;
          }
          const { target, backlog, pid } = uploadsOf[phase];
          const rss = sampleRss(pid);
          record.rss.push(rss);
          const uploaders = startUploaders(target, image, uploadDispatcher, { count: uploaderCount, skus: imageSkus });
          await uploaders.firstAnswered(60_000);
          await timed();
          record.uploads.push(await uploaders.stop());
          record.drains.push(await drain(backlog, { timeoutMs: drainTimeoutMs }));
          rss.stop();
        }
      }

      const statuses = await imageStatuses(side);
      const baseline = records.get(alone) as PhaseRecord;
      const media = records.get(besideMedia) as PhaseRecord;
      const inside = records.get(insideOrders) as PhaseRecord;
      return [
        ...rowsOf(alone, baseline, baseline, ''),
        ...rowsOf(besideMedia, media, baseline, uploadsOf[besideMedia].target.label),
        ...rssRows(besideMedia, 'media', media.rss, peaksBefore.media, residentOf(pidOf('media'))?.peakBytes),
        { variant: besideMedia, metric: "media's images ready at the end", value: statuses.get('ready') ?? 0, unit: 'images', note: [...statuses].map(([status, n]) => `${n} ${status}`).join(', ') },
        ...rowsOf(insideOrders, inside, baseline, uploadsOf[insideOrders].target.label),
        ...rssRows(insideOrders, 'orders', inside.rss, peaksBefore.orders, residentOf(pidOf('orders'))?.peakBytes),
      ];
    } finally {
      await dispatcher.close();
      await uploadDispatcher.close();
      await side?.stop();
      await rm(own, { recursive: true, force: true });
    }
  },
};
