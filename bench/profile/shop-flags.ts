// What a Node flag does to the whole shop's checkout: two Baton shops as real processes (as
// checkout-vs-bare starts them: every guarantee on, without payment or media), each on a
// PostgreSQL of its own, the second with SHOP_FLAGS added to every service's NODE_OPTIONS (after
// the runner's own, so a flag given again wins), warmed up, then order + cancel pairs on the hot
// product at C=4 and C=16 in rounds that alternate between them. Per shop: pairs/s (median of the
// rounds), order p50/p99 over every round, Node and PostgreSQL CPU per pair; and the second over
// the first as the median of the rounds' own ratios with its 95% interval. Not a scenario:
// nothing to hold to a target, a measure to choose the runner's V8 flags with. Run it once with
// a flag that changes nothing (the A/A run) before reading a flag's effect: two shops on two
// cores came out up to 7% apart in CPU per pair with the same flags (bench/README.md, "The
// seventeenth session" under checkout-vs-bare).
//
//   SHOP_FLAGS=--v8-pool-size=4 node bench/profile/shop-flags.ts          # the runner's flags, given again: the A/A run
//   SHOP_FLAGS=--v8-pool-size=1 SHOP_FLAGS_ROUNDS=21 node bench/profile/shop-flags.ts
import { Agent } from 'undici';
import { formatInterval, median, medianInterval, percentile } from '../harness/stats.ts';
import { runPairs } from '../scenarios/checkout-vs-bare/pairs.ts';
import { startBaton } from '../scenarios/checkout-vs-bare/sides.ts';
import { alternatingRounds, nodeCpuMs, roundRatios, type Tally } from '../scenarios/checkout-vs-bare/tally.ts';
import { hotSku } from '../scenarios/checkout-vs-bare.ts';

const flags = process.env.SHOP_FLAGS;
if (flags === undefined || flags.trim() === '') throw new Error('SHOP_FLAGS names the Node flags of the second shop, e.g. SHOP_FLAGS=--v8-pool-size=4');
const rounds = Number(process.env.SHOP_FLAGS_ROUNDS ?? 15);
const roundMs = 2_000;
const skuOf = () => hotSku;

const dispatcher = new Agent({ connections: 64 });
const runner = await startBaton(dispatcher, {}, { name: "the runner's flags" });
const flagged = await startBaton(dispatcher, { NODE_OPTIONS: [process.env.NODE_OPTIONS, flags].filter(Boolean).join(' ') }, { name: flags });
const shops = [runner, flagged];
try {
  for (const shop of shops) await runPairs(shop, dispatcher, { concurrency: 16, durationMs: 15_000, skuOf });
  for (const concurrency of [4, 16]) {
    for (const shop of shops) await runPairs(shop, dispatcher, { concurrency, durationMs: roundMs, skuOf });
    const tallies = await alternatingRounds(shops, dispatcher, { concurrency, durationMs: roundMs, skuOf }, rounds);
    for (const shop of shops) {
      const tally = tallies.get(shop.name) as Tally;
      const latencies = [...tally.orderLatenciesMs].sort((a, b) => a - b);
      console.log(`C=${concurrency}, ${shop.name}: pairs/s ${median(tally.pairsPerSecond).toFixed(1)}, order p50 ${percentile(latencies, 50).toFixed(1)} ms, p99 ${percentile(latencies, 99).toFixed(1)} ms, Node CPU ${(nodeCpuMs(tally) / tally.pairs).toFixed(2)} ms a pair, PostgreSQL ${((tally.cpuMs.get('postgres') ?? 0) / tally.pairs).toFixed(2)} ms`);
    }
    const [base, other] = shops.map((shop) => tallies.get(shop.name) as Tally) as [Tally, Tally];
    const cpu = roundRatios(other, base, (tally) => tally.nodeCpuMsPerPair);
    const pairs = roundRatios(other, base, (tally) => tally.pairsPerSecond);
    console.log(`C=${concurrency}, ${flags} / the runner's: Node CPU per pair ${median(cpu).toFixed(3)} (${formatInterval(medianInterval(cpu))}), pairs/s ${median(pairs).toFixed(3)} (${formatInterval(medianInterval(pairs))})`);
  }
} finally {
  for (const shop of shops) await shop.stop();
  await dispatcher.close();
}
