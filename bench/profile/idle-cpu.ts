// What Baton's shop costs doing nothing (issue 18): each process's CPU over IDLE_SECONDS (default
// 10) with no request coming in, after IDLE_SETTLE_SECONDS (default 5) to settle: the health
// checks, the relays' and feed readers' polls, timers. Under load that work goes on beside the
// requests and counts in every pair's CPU.
//
//   node bench/profile/idle-cpu.ts
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent } from 'undici';
import { cpuMsBetween } from '../harness/process-cpu.ts';
import { startBaton } from '../scenarios/checkout-vs-bare/sides.ts';

const seconds = Number(process.env.IDLE_SECONDS ?? 10);
const dispatcher = new Agent({ connections: 4 });
const baton = await startBaton(dispatcher);
try {
  await sleep(Number(process.env.IDLE_SETTLE_SECONDS ?? 5) * 1000);
  const before = baton.cpu();
  await sleep(seconds * 1000);
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
