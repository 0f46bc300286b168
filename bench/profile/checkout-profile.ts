// A CPU profile of Baton's checkout under load (issue 18): the whole shop as checkout-vs-bare
// starts it, each service with `--cpu-prof`, 16 buyers placing and cancelling orders of the hot
// product for PROFILE_SECONDS (default 20) after a warm-up; then a graceful stop, so each
// process writes its profile. Only the samples of the timed window count. Writes
// bench/results/checkout-flame.svg (every service under one root) and checkout-profile.md (the
// functions with the most self time, overall and per service).
//
//   node bench/profile/checkout-profile.ts
//   PROFILE_SIDE=bare node bench/profile/checkout-profile.ts   # the bare chain's, to set beside it
//
// PROFILE_FOLDED=<file> also writes the folded stacks (a line a stack: frames, a space, samples).
// PROFILE_TRACING=exported or off: how the shop traces (tracing-choice.ts; default: no exporter).
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent } from 'undici';
import { runPairs } from '../scenarios/checkout-vs-bare/pairs.ts';
import { servicePids, startBare, startBaton } from '../scenarios/checkout-vs-bare/sides.ts';
import { foldedStacks, selfTime, type FoldedStacks } from './cpu-profile.ts';
import { flameGraphSvg } from './flame-graph.ts';
import { chooseTracing } from './tracing-choice.ts';

const seconds = Number(process.env.PROFILE_SECONDS ?? 20);
const bare = process.env.PROFILE_SIDE === 'bare';
const folded = process.env.PROFILE_FOLDED;
const intervalUs = 500;
const results = new URL('../results/', import.meta.url);
const nowUs = () => Number(process.hrtime.bigint() / 1000n);

const profiles = await mkdtemp(join(tmpdir(), 'baton-profile-'));
const dispatcher = new Agent({ connections: 64 });
const hot = () => 'FILTER-PAPER-100';
let window: { fromUs: number; toUs: number } | undefined;
let pairs = 0;
let pids: Map<number, string> | undefined;
const nodeOptions = `--cpu-prof --cpu-prof-dir=${profiles} --cpu-prof-interval=${intervalUs}`;
const tracing = await chooseTracing(bare ? undefined : process.env.PROFILE_TRACING);
const baton = bare ? await startBare({ nodeOptions }) : await startBaton(dispatcher, { NODE_OPTIONS: nodeOptions, ...tracing.env });
try {
  pids = new Map(servicePids(baton).map(([name, pid]) => [pid, name] as const));
  await runPairs(baton, dispatcher, { concurrency: 16, durationMs: 3_000, skuOf: hot });
  const fromUs = nowUs();
  const round = await runPairs(baton, dispatcher, { concurrency: 16, durationMs: seconds * 1000, skuOf: hot });
  window = { fromUs, toUs: nowUs() };
  pairs = round.pairs;
  console.log(`${round.pairs} pairs in ${round.seconds.toFixed(1)} s (${(round.pairs / round.seconds).toFixed(1)}/s), ${round.failures} failed`);
} finally {
  await baton.stop();
  await dispatcher.close();
  const received = await tracing.stop();
  if (received !== '') console.log(received);
}

if (window === undefined || pids === undefined) throw new Error('the load did not run');
const all: FoldedStacks = new Map();
const perService = new Map<string, FoldedStacks>();
for (const file of await readdir(profiles)) {
  const pid = Number(/\.(\d+)\.0\.\d+\.cpuprofile$/.exec(file)?.[1]);
  const service = pids.get(pid);
  if (service === undefined) continue;
  const stacks = await foldedStacks(join(profiles, file), { ...window, prefix: service });
  perService.set(service, stacks);
  for (const [stack, samples] of stacks) all.set(stack, (all.get(stack) ?? 0) + samples);
}
await rm(profiles, { recursive: true, force: true });

const total = [...all.values()].reduce((sum, n) => sum + n, 0);
if (folded !== undefined) await writeFile(folded, [...all].map(([stack, n]) => `${stack} ${n}`).join('\n') + '\n');
const title = `${bare ? 'The bare chain\'s' : `Baton (tracing: ${tracing.choice})`} checkout, order + cancel pairs, C=16, hot product: ${pairs} pairs, ${total} samples of ${intervalUs} µs (every service)`;
await writeFile(new URL(`checkout-flame${bare ? '-bare' : ''}.svg`, results), flameGraphSvg(all, title));

const share = (n: number, of: number) => `${((100 * n) / of).toFixed(1)}%`;
const lines = [
  '# checkout-profile', '',
  `${title}. Self time: the samples that fell in the function itself; % of every sampled CPU moment of every service.`, '',
  `Measured ${new Date().toISOString()} on Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}, with \`node bench/profile/checkout-profile.ts\` (PROFILE_SECONDS=${seconds}). Flame graph: checkout-flame.svg.`, '',
  '| service | samples | ms per pair (at the sampling interval) |', '|---|---|---|',
  ...[...perService].map(([service, stacks]) => {
    const n = [...stacks.values()].reduce((sum, v) => sum + v, 0);
    return `| ${service} | ${n} | ${((n * intervalUs) / 1000 / Math.max(pairs, 1)).toFixed(2)} |`;
  }),
  '', '## Top 20 by self time, every service', '', '| # | function | self |', '|---|---|---|',
  ...selfTime(all).slice(0, 20).map(([frame, n], i) => `| ${i + 1} | \`${frame}\` | ${share(n, total)} |`),
];
for (const [service, stacks] of perService) {
  const n = [...stacks.values()].reduce((sum, v) => sum + v, 0);
  lines.push('', `## ${service}: top 8 by self time`, '', '| function | self, of this service |', '|---|---|',
    ...selfTime(stacks).slice(0, 8).map(([frame, count]) => `| \`${frame}\` | ${share(count, n)} |`));
}
await writeFile(new URL(`checkout-profile${bare ? '-bare' : ''}.md`, results), lines.join('\n') + '\n');
console.log(lines.slice(0, 40).join('\n'));
