// Baton's checkout under several settings against the bare chain, in the same run (issue 18):
// what one setting is worth, per process, before it becomes a default. Each argument is a
// variant, `name` or `name:service.VARIABLE=value,service.VARIABLE=value` (`*` for every
// service); the bare chain always runs beside them. Rounds alternate over every side, the order
// rotating each round; C=16 on the hot product, as the headline of checkout-vs-bare.
//
//   node bench/profile/checkout-variants.ts defaults grpc:orders.UPSTREAM_PROTOCOL=grpc
//
// VARIANT_ROUNDS (default 3), VARIANT_ROUND_MS (default 5000).
import { Agent } from 'undici';
import type { ServiceName } from '../../packages/runner/src/index.ts';
import { runPairs } from '../scenarios/checkout-vs-bare/pairs.ts';
import { startBare, startBaton, type Side } from '../scenarios/checkout-vs-bare/sides.ts';
import { emptyTally, measureRound, nodeCpuMs, type Tally } from '../scenarios/checkout-vs-bare/tally.ts';

const rounds = Number(process.env.VARIANT_ROUNDS ?? 3);
const roundMs = Number(process.env.VARIANT_ROUND_MS ?? 5_000);
const load = { concurrency: 16, durationMs: roundMs, skuOf: () => 'FILTER-PAPER-100' };

function parse(arg: string): { name: string; extraEnv: NodeJS.ProcessEnv; serviceEnv: Partial<Record<ServiceName, NodeJS.ProcessEnv>> } {
  const [name = arg, settings = ''] = arg.split(/:(.*)/s);
  const extraEnv: NodeJS.ProcessEnv = {};
  const serviceEnv: Partial<Record<ServiceName, NodeJS.ProcessEnv>> = {};
  for (const setting of settings.split(',').filter(Boolean)) {
    const match = /^([a-z*]+)\.([A-Z0-9_]+)=(.*)$/.exec(setting);
    if (match === null) throw new Error(`expected service.VARIABLE=value, got ${setting}`);
    const [, service, variable, value] = match as unknown as [string, string, string, string];
    if (service === '*') extraEnv[variable] = value;
    else (serviceEnv[service as ServiceName] ??= {})[variable] = value;
  }
  return { name, extraEnv, serviceEnv };
}

const dispatcher = new Agent({ connections: 64 });
const sides: Side[] = [];
try {
  for (const arg of process.argv.slice(2)) {
    const { name, extraEnv, serviceEnv } = parse(arg);
    sides.push(await startBaton(dispatcher, extraEnv, { name, serviceEnv }));
  }
  sides.push(await startBare());
  const tallies = new Map(sides.map((side) => [side.name, emptyTally()]));
  for (const side of sides) await runPairs(side, dispatcher, { ...load, durationMs: 2_000 });
  for (let round = 0; round < rounds; round++) {
    const order = [...sides.slice(round % sides.length), ...sides.slice(0, round % sides.length)];
    for (const side of order) await measureRound(side, dispatcher, load, tallies.get(side.name) as Tally);
  }
  const bare = tallies.get('bare') as Tally;
  const barePerPair = nodeCpuMs(bare) / bare.pairs;
  for (const side of sides) {
    const tally = tallies.get(side.name) as Tally;
    const perPair = (ms: number) => (ms / tally.pairs).toFixed(2);
    const processes = [...tally.cpuMs].map(([name, ms]) => `${name} ${perPair(ms)}`).join(', ');
    console.log(`${side.name.padEnd(16)} ${(tally.pairs / (rounds * roundMs / 1000)).toFixed(1).padStart(6)} pairs/s  Node ${perPair(nodeCpuMs(tally))} ms a pair (${((nodeCpuMs(tally) / tally.pairs) / barePerPair).toFixed(2)}× bare; ${perPair(nodeCpuMs(tally, ['notifications']))} without notifications)  ${processes}  failed ${tally.failures}`);
  }
} finally {
  await dispatcher.close();
  for (const side of sides.reverse()) await side.stop();
}
