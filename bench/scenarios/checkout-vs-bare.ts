import { Agent } from 'undici';
import type { Row, Scenario } from '../harness/report.ts';
import { median, percentile } from '../harness/stats.ts';
import { runPairs } from './checkout-vs-bare/pairs.ts';
import { emptyTally, measureRound, nodeCpuMs, type Tally } from './checkout-vs-bare/tally.ts';
import { startBare, startBaton, type Side } from './checkout-vs-bare/sides.ts';

// Baton's checkout and cancel against the bare chain (bench/bare-chain/: the same hops and SQL,
// nothing else), both running at once, each on a PostgreSQL of its own, measured in rounds that
// alternate between them. CPU per pair is the headline: it is steadier than throughput on a
// machine shared with other work.
//
// CHECKOUT_VS_BARE_ROUNDS (default 3) and CHECKOUT_VS_BARE_ROUND_MS (default 5000) set the
// length: every load runs that many rounds of that length on each side;
// CHECKOUT_VS_BARE_FIRST_WARM_UP_MS (default 15000) the warm-up before the first.

const rounds = Number(process.env.CHECKOUT_VS_BARE_ROUNDS ?? 3);
const roundMs = Number(process.env.CHECKOUT_VS_BARE_ROUND_MS ?? 5_000);
const warmUpMs = Math.min(roundMs, 2_000);
// Once, before the first load, on each side (C=16 on spread products): processes just started
// have not yet compiled their hot paths, and the larger program takes longer to. Without it the
// first load, the headline's, measured the warm-up too: three runs without it gave Baton 1.70-1.79×
// the bare chain there, three with it 1.59×, 1.49× and 1.72× (bench/README.md).
const firstWarmUpMs = Number(process.env.CHECKOUT_VS_BARE_FIRST_WARM_UP_MS ?? 15_000);

// The hot product: every buyer orders it, so each reservation waits on the same row lock.
export const hotSku = 'FILTER-PAPER-100';
// Spread products: a product per buyer (16 of the seeded catalogue, each with stock for many
// buyers' single units on hold at once).
export const spreadSkus = ['COFFEE-1KG', 'COFFEE-250G', 'COFFEE-DECAF-500G', 'TEA-GREEN-100G', 'TEA-EARLGREY-100G', 'TEA-CHAMOMILE-50G',
  'MUG-STONEWARE', 'MUG-TRAVEL', 'DRIPPER-CERAMIC', 'FILTER-PAPER-100', 'FRENCH-PRESS-1L', 'INFUSER-STEEL', 'CANISTER-AIRTIGHT',
  'MILK-FROTHER', 'CHOCOLATE-DARK-70', 'GIFT-CARD-25'];

const loads = [
  { label: 'C=16, hot product', concurrency: 16, skuOf: () => hotSku },
  { label: 'C=16, spread products', concurrency: 16, skuOf: (buyer: number) => spreadSkus[buyer % spreadSkus.length] as string },
  { label: 'C=4, hot product', concurrency: 4, skuOf: () => hotSku },
  { label: 'C=4, spread products', concurrency: 4, skuOf: (buyer: number) => spreadSkus[buyer % spreadSkus.length] as string },
] as const;

function rowsOf(load: string, side: string, tally: Tally): Row[] {
  const latencies = [...tally.orderLatenciesMs].sort((a, b) => a - b);
  const perPair = (ms: number) => ms / tally.pairs;
  return [
    { variant: `${load}, ${side}`, metric: 'pairs/s', value: median(tally.pairsPerSecond), unit: 'per second', note: `median of ${rounds} rounds; ${tally.pairs} pairs, ${tally.failures} failed` },
    { variant: `${load}, ${side}`, metric: 'order p50', value: percentile(latencies, 50), unit: 'ms' },
    { variant: `${load}, ${side}`, metric: 'order p99', value: percentile(latencies, 99), unit: 'ms' },
    { variant: `${load}, ${side}`, metric: 'CPU per pair, Node (all processes)', value: perPair(nodeCpuMs(tally)), unit: 'ms' },
    { variant: `${load}, ${side}`, metric: 'CPU per pair, Node without notifications', value: perPair(nodeCpuMs(tally, ['notifications'])), unit: 'ms' },
    ...[...tally.cpuMs].map(([name, ms]) => ({ variant: `${load}, ${side}`, metric: `CPU per pair, ${name === 'postgres' ? 'PostgreSQL (server and backends)' : name}`, value: perPair(ms), unit: 'ms' })),
  ];
}

const valueOf = (rows: readonly Row[], variant: string, metric: string) => rows.find((row) => row.variant === variant && row.metric === metric)?.value ?? Number.NaN;
const two = (value: number) => value.toFixed(2);
const one = (value: number) => value.toFixed(1);

/** The table the issue asks for, Baton / bare per load, then the last line. */
function summary(rows: readonly Row[]): string {
  const lines = ['| load | pairs/s Baton / bare | order p50 ms | order p99 ms | Node CPU ms per pair | PostgreSQL CPU ms per pair |', '|---|---|---|---|---|---|'];
  for (const { label } of loads) {
    const pair = (metric: string, format: (value: number) => string, ratio?: number) => {
      const baton = valueOf(rows, `${label}, Baton`, metric);
      const bare = valueOf(rows, `${label}, bare`, metric);
      return `${format(baton)} / ${format(bare)} (${two(ratio ?? baton / bare)}×)`;
    };
    // The throughput ratio is the median of the rounds' own ratios (as on the last line), not the ratio of the medians.
    lines.push(`| ${label} | ${pair('pairs/s', one, valueOf(rows, `${label}, Baton / bare`, 'pairs/s ratio'))} | ${pair('order p50', one)} | ${pair('order p99', one)} | ${pair('CPU per pair, Node (all processes)', two)} | ${pair('CPU per pair, PostgreSQL (server and backends)', two)} |`);
  }
  const hot = loads[0].label;
  lines.push('', `checkout-vs-bare: cpu ratio ${two(valueOf(rows, `${hot}, Baton / bare`, 'Node CPU per pair ratio'))}, pairs/s ratio ${two(valueOf(rows, `${hot}, Baton / bare`, 'pairs/s ratio'))}`);
  return lines.join('\n');
}

export const checkoutVsBare: Scenario = {
  name: 'checkout-vs-bare',
  description: `An order placed and cancelled through the gateway (a pair), on Baton's whole shop as real processes (every guarantee on, service identity, tracing at its defaults, orders → users and inventory over HTTP, its default, notifications reading the order feed) against the bare chain of bench/bare-chain/ (Fastify, undici, pg, jose and nodemailer's composer: the same hops, the same SQL and outbox row, the token checked at the gateway and in orders, the same two emails written by a notifications process reading orders' outbox; nothing else). Each on a PostgreSQL of its own, both running at once; each side warmed up for ${firstWarmUpMs} ms first. For each load (C=16 and C=4 buyers, one hot product or a product per buyer), ${rounds} rounds of ${roundMs} ms on each side, alternating, the side that goes first swapping each round. CPU per pair per process from /proc/<pid>/stat over the timed rounds (PostgreSQL: the server and every backend under it), divided by the pairs completed; pairs/s the median of the rounds and the ratio the median of the rounds' own ratios; order latency percentiles over every round.`,
  target: 'Node CPU per pair ≤ 1.5× the bare chain; pairs/s ≥ 0.85× at C=4 and C=16; order p99 ≤ 1.3× at C=4',
  summary,
  async run() {
    const dispatcher = new Agent({ connections: 64 });
    const sides: Side[] = [];
    try {
      sides.push(await startBaton(dispatcher));
      sides.push(await startBare());
      const rows: Row[] = [];
      if (firstWarmUpMs > 0) for (const side of sides) await runPairs(side, dispatcher, { concurrency: 16, durationMs: firstWarmUpMs, skuOf: loads[1].skuOf });
      for (const load of loads) {
        const tallies = new Map(sides.map((side) => [side.name, emptyTally()]));
        for (const side of sides) await runPairs(side, dispatcher, { concurrency: load.concurrency, durationMs: warmUpMs, skuOf: load.skuOf });
        for (let round = 0; round < rounds; round++) {
          for (const side of round % 2 === 0 ? sides : [...sides].reverse()) await measureRound(side, dispatcher, { concurrency: load.concurrency, durationMs: roundMs, skuOf: load.skuOf }, tallies.get(side.name) as Tally);
        }
        const baton = tallies.get('Baton') as Tally;
        const bare = tallies.get('bare') as Tally;
        rows.push(...rowsOf(load.label, 'Baton', baton), ...rowsOf(load.label, 'bare', bare));
        const variant = `${load.label}, Baton / bare`;
        rows.push(
          { variant, metric: 'pairs/s ratio', value: median(baton.pairsPerSecond.map((value, i) => value / (bare.pairsPerSecond[i] ?? Number.NaN))), unit: '×', note: 'target ≥ 0.85' },
          { variant, metric: 'Node CPU per pair ratio', value: (nodeCpuMs(baton) / baton.pairs) / (nodeCpuMs(bare) / bare.pairs), unit: '×', note: 'target ≤ 1.5' },
          { variant, metric: 'order p99 ratio', value: valueOf(rows, `${load.label}, Baton`, 'order p99') / valueOf(rows, `${load.label}, bare`, 'order p99'), unit: '×', note: load.concurrency === 4 ? 'target ≤ 1.3' : '' },
        );
      }
      return rows;
    } finally {
      await dispatcher.close();
      for (const side of sides.reverse()) await side.stop();
    }
  },
};
