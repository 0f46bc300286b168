// Where a process's CPU goes by thread (issue 18): the main thread (JavaScript, the event loop)
// or V8's workers (concurrent compiling and the garbage collector's helpers) or libuv's pool.
// `/proc/<pid>/stat`, the headline of checkout-vs-bare, sums them all; this splits them, per
// service, in CPU ms a pair over THREAD_CPU_WINDOWS (default 2) windows of 10 s at C=16 on the
// hot product, after 8 s of the same load.
//
//   node bench/profile/thread-cpu.ts
//   THREAD_CPU_SIDE=bare node bench/profile/thread-cpu.ts
//   THREAD_CPU_TRACING=exported node bench/profile/thread-cpu.ts   # or off (tracing-choice.ts)
import { readdirSync, readFileSync } from 'node:fs';
import { Agent } from 'undici';
import { runPairs } from '../scenarios/checkout-vs-bare/pairs.ts';
import { servicePids, startBare, startBaton } from '../scenarios/checkout-vs-bare/sides.ts';
import { chooseTracing } from './tracing-choice.ts';

const windows = Number(process.env.THREAD_CPU_WINDOWS ?? 2);
const load = { concurrency: 16, skuOf: () => 'FILTER-PAPER-100' };
const clockTicksPerMs = 100 / 1000; // USER_HZ, 100 on Linux

/** CPU ms by thread name (threads of one name summed) of one process. */
function threadCpuMs(pid: number): Map<string, number> {
  const byName = new Map<string, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    byName.set(name, (byName.get(name) ?? 0) + (Number(fields[11]) + Number(fields[12])) / clockTicksPerMs);
  }
  return byName;
}

const dispatcher = new Agent({ connections: 64 });
const bare = process.env.THREAD_CPU_SIDE === 'bare';
const tracing = await chooseTracing(bare ? undefined : process.env.THREAD_CPU_TRACING);
const side = bare ? await startBare() : await startBaton(dispatcher, tracing.env);
const pids = servicePids(side);
try {
  await runPairs(side, dispatcher, { ...load, durationMs: 8_000 });
  for (let window = 1; window <= windows; window++) {
    const before = new Map(pids.map(([name, pid]) => [name, threadCpuMs(pid)]));
    const { pairs } = await runPairs(side, dispatcher, { ...load, durationMs: 10_000 });
    console.log(`window ${window}: ${pairs} pairs; CPU ms a pair by thread`);
    for (const [name, pid] of pids) {
      const was = before.get(name)!;
      const threads = [...threadCpuMs(pid)].map(([thread, ms]) => [thread, (ms - (was.get(thread) ?? 0)) / pairs] as const).filter(([, ms]) => ms >= 0.005);
      console.log(`  ${name.padEnd(14)} ${threads.map(([thread, ms]) => `${thread} ${ms.toFixed(2)}`).join(', ')}`);
    }
  }
} finally {
  await side.stop();
  await dispatcher.close();
  const received = await tracing.stop();
  if (received !== '') console.log(received);
}
