import { Agent } from 'undici';
import type { Row, Scenario } from '../harness/report.ts';
import { median, percentile } from '../harness/stats.ts';
import { runPairs } from './checkout-vs-bare/pairs.ts';
import { emptyTally, measureRound, nodeCpuMs, type Tally } from './checkout-vs-bare/tally.ts';
import { startBaton, type Side } from './checkout-vs-bare/sides.ts';

// Checkout with payment (the saga: reserve, authorise at the provider, record, capture, confirm;
// the cancel refunds) beside checkout without it (reserve, record, confirm; the cancel releases),
// on two Baton shops running at once, each on a PostgreSQL of its own, in rounds that alternate.
// CHECKOUT_PAYMENT_ROUNDS (default 3) and CHECKOUT_PAYMENT_ROUND_MS (default 5000) set the length.

const rounds = Number(process.env.CHECKOUT_PAYMENT_ROUNDS ?? 3);
const roundMs = Number(process.env.CHECKOUT_PAYMENT_ROUND_MS ?? 5_000);
const warmUpMs = Math.min(roundMs, 2_000);

// A product per buyer, so the stock row's lock is not what is measured.
const skus = ['COFFEE-1KG', 'COFFEE-250G', 'COFFEE-DECAF-500G', 'TEA-GREEN-100G', 'TEA-EARLGREY-100G', 'TEA-CHAMOMILE-50G',
  'MUG-STONEWARE', 'MUG-TRAVEL', 'DRIPPER-CERAMIC', 'FILTER-PAPER-100', 'FRENCH-PRESS-1L', 'INFUSER-STEEL', 'CANISTER-AIRTIGHT',
  'MILK-FROTHER', 'CHOCOLATE-DARK-70', 'GIFT-CARD-25'];
const loads = [{ label: 'C=4', concurrency: 4 }, { label: 'C=16', concurrency: 16 }] as const;
const skuOf = (buyer: number) => skus[buyer % skus.length] as string;

function rowsOf(load: string, side: string, tally: Tally): Row[] {
  const latencies = [...tally.orderLatenciesMs].sort((a, b) => a - b);
  const variant = `${load}, ${side}`;
  return [
    { variant, metric: 'pairs/s', value: median(tally.pairsPerSecond), unit: 'per second', note: `median of ${rounds} rounds; ${tally.pairs} pairs, ${tally.failures} failed` },
    { variant, metric: 'order p50', value: percentile(latencies, 50), unit: 'ms' },
    { variant, metric: 'order p99', value: percentile(latencies, 99), unit: 'ms' },
    { variant, metric: 'CPU per pair, Node (all processes)', value: nodeCpuMs(tally) / tally.pairs, unit: 'ms' },
    ...[...tally.cpuMs].map(([name, ms]) => ({ variant, metric: `CPU per pair, ${name === 'postgres' ? 'PostgreSQL (server and backends)' : name}`, value: ms / tally.pairs, unit: 'ms' })),
  ];
}

const valueOf = (rows: readonly Row[], variant: string, metric: string) => rows.find((row) => row.variant === variant && row.metric === metric)?.value ?? Number.NaN;

function summary(rows: readonly Row[]): string {
  const lines = ['| load | pairs/s paid / unpaid | order p50 ms | order p99 ms | Node CPU ms per pair |', '|---|---|---|---|---|'];
  for (const { label } of loads) {
    const pair = (metric: string, digits: number) => {
      const paid = valueOf(rows, `${label}, with payment`, metric);
      const unpaid = valueOf(rows, `${label}, without payment`, metric);
      return `${paid.toFixed(digits)} / ${unpaid.toFixed(digits)} (${(paid / unpaid).toFixed(2)}×)`;
    };
    lines.push(`| ${label} | ${pair('pairs/s', 1)} | ${pair('order p50', 1)} | ${pair('order p99', 1)} | ${pair('CPU per pair, Node (all processes)', 2)} |`);
  }
  const c4 = loads[0].label;
  lines.push('', `checkout-payment: pairs/s ratio ${valueOf(rows, `${c4}, with / without payment`, 'pairs/s ratio').toFixed(2)}, cpu ratio ${valueOf(rows, `${c4}, with / without payment`, 'Node CPU per pair ratio').toFixed(2)}`);
  return lines.join('\n');
}

export const checkoutPayment: Scenario = {
  name: 'checkout-payment',
  description: `An order placed and cancelled through the gateway (a pair) on Baton's whole shop with payment, as npm start runs it (the saga: stock reserved, the card authorised at the provider, the order recorded, the payment captured, the stock confirmed; the cancel refunds), beside the same shop without payment (CHECKOUT_PAYMENT=off: reserve, record, confirm; the cancel releases the stock). Both running at once, each on a PostgreSQL of its own; for C=4 and C=16 buyers, each on a product of its own, ${rounds} rounds of ${roundMs} ms on each side, alternating, the side that goes first swapping each round. CPU per pair from /proc over the timed rounds (the payment service and the provider included on the paid side).`,
  target: 'none set by an issue: what payment costs a checkout (two more hops, the provider, three more saga writes)',
  summary,
  async run() {
    const dispatcher = new Agent({ connections: 64 });
    const sides: Side[] = [];
    try {
      sides.push(await startBaton(dispatcher, {}, { payment: true, name: 'with payment' }));
      sides.push(await startBaton(dispatcher, {}, { name: 'without payment' }));
      const rows: Row[] = [];
      for (const load of loads) {
        const tallies = new Map(sides.map((side) => [side.name, emptyTally()]));
        for (const side of sides) await runPairs(side, dispatcher, { concurrency: load.concurrency, durationMs: warmUpMs, skuOf });
        for (let round = 0; round < rounds; round++) {
          for (const side of round % 2 === 0 ? sides : [...sides].reverse()) await measureRound(side, dispatcher, { concurrency: load.concurrency, durationMs: roundMs, skuOf }, tallies.get(side.name) as Tally);
        }
        const paid = tallies.get('with payment') as Tally;
        const unpaid = tallies.get('without payment') as Tally;
        rows.push(...rowsOf(load.label, 'with payment', paid), ...rowsOf(load.label, 'without payment', unpaid));
        rows.push(
          { variant: `${load.label}, with / without payment`, metric: 'pairs/s ratio', value: median(paid.pairsPerSecond.map((value, i) => value / (unpaid.pairsPerSecond[i] ?? Number.NaN))), unit: '×' },
          { variant: `${load.label}, with / without payment`, metric: 'Node CPU per pair ratio', value: (nodeCpuMs(paid) / paid.pairs) / (nodeCpuMs(unpaid) / unpaid.pairs), unit: '×' },
        );
      }
      return rows;
    } finally {
      await dispatcher.close();
      for (const side of sides.reverse()) await side.stop();
    }
  },
};
