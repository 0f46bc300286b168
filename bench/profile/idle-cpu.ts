// What Baton's shop costs doing nothing (issue 18): each process's CPU over IDLE_SECONDS (default
// 10) with no request coming in, after IDLE_SETTLE_SECONDS (default 5) to settle: the health
// checks, the relays' and feed readers' polls, timers. Under load that work goes on beside the
// requests and counts in every pair's CPU.
//
//   node bench/profile/idle-cpu.ts
//   IDLE_FOLDED=/tmp/idle.txt node bench/profile/idle-cpu.ts   # also profiles each service (--cpu-prof), folded stacks to the file
//   node bench/profile/folded-shares.ts /tmp/idle.txt users --packages
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent } from 'undici';
import { cpuMsBetween } from '../harness/process-cpu.ts';
import { servicePids, startBaton } from '../scenarios/checkout-vs-bare/sides.ts';
import { foldedStacks } from './cpu-profile.ts';

const seconds = Number(process.env.IDLE_SECONDS ?? 10);
const folded = process.env.IDLE_FOLDED;
const nowUs = () => Number(process.hrtime.bigint() / 1000n);
const profiles = folded === undefined ? undefined : await mkdtemp(join(tmpdir(), 'baton-idle-profile-'));
const dispatcher = new Agent({ connections: 4 });
const baton = await startBaton(dispatcher, profiles === undefined ? {} : { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${profiles} --cpu-prof-interval=500` });
const pids = new Map(servicePids(baton).map(([name, pid]) => [pid, name] as const));
const window = { fromUs: 0, toUs: 0 };
try {
  await sleep(Number(process.env.IDLE_SETTLE_SECONDS ?? 5) * 1000);
  const before = baton.cpu();
  window.fromUs = nowUs();
  await sleep(seconds * 1000);
  window.toUs = nowUs();
  const after = baton.cpu();
  let total = 0;
  for (const [name, tree] of after) {
    const ms = cpuMsBetween(before.get(name) ?? new Map(), tree);
    if (name !== 'postgres') total += ms;
    console.log(`${name.padEnd(14)} ${(ms / seconds).toFixed(1).padStart(6)} ms of CPU a second`);
  }
  console.log(`${'Node, all'.padEnd(14)} ${(total / seconds).toFixed(1).padStart(6)} ms of CPU a second`);
} finally {
  await baton.stop();
  await dispatcher.close();
}

if (profiles !== undefined && folded !== undefined) {
  const lines: string[] = [];
  for (const file of await readdir(profiles)) {
    const service = pids.get(Number(/\.(\d+)\.0\.\d+\.cpuprofile$/.exec(file)?.[1]));
    if (service === undefined) continue;
    for (const [stack, samples] of await foldedStacks(join(profiles, file), { ...window, prefix: service })) lines.push(`${stack} ${samples}`);
  }
  await rm(profiles, { recursive: true, force: true });
  await writeFile(folded, lines.join('\n') + '\n');
}
