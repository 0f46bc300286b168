// What a pair asks of the kernel (issue 18), per service: CPU ms a pair in user space and in the
// kernel (`/proc/<pid>/stat`'s utime and stime), and the system calls a pair makes, by call, as
// `perf trace -s` counts them for every thread of the process. On loopback a socket write also
// runs the receiving side's TCP path in the writer's system call, so the count of writes is a
// cost of its own that a CPU profile shows only as `writev` and `writeBuffer` self time.
// One window of SYSCALLS_SECONDS (default 10) at C=16 on the hot product, after 8 s of the same
// load. perf's tracing slows every system call a little, on both sides alike.
//
//   node bench/profile/syscalls.ts
//   SYSCALLS_SIDE=bare node bench/profile/syscalls.ts
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Agent } from 'undici';
import { runPairs } from '../scenarios/checkout-vs-bare/pairs.ts';
import { servicePids, startBare, startBaton } from '../scenarios/checkout-vs-bare/sides.ts';

const seconds = Number(process.env.SYSCALLS_SECONDS ?? 10);
const top = Number(process.env.SYSCALLS_TOP ?? 8);
const load = { concurrency: 16, skuOf: () => 'FILTER-PAPER-100' };
const clockTicksPerMs = 100 / 1000; // USER_HZ, 100 on Linux

function userAndSystemMs(pid: number): { userMs: number; systemMs: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { userMs: Number(fields[11]) / clockTicksPerMs, systemMs: Number(fields[12]) / clockTicksPerMs };
}

/** `perf trace -s` on one process until `stop`: calls by system call name, every thread summed. */
function traceSyscalls(pid: number): { stop(): Promise<Map<string, number>> } {
  const perf = spawn('perf', ['trace', '-s', '-p', String(pid)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let text = '';
  perf.stderr.setEncoding('utf8').on('data', (chunk: string) => { text += chunk; });
  const exited = new Promise<void>((resolve) => perf.once('exit', () => resolve()));
  return {
    async stop() {
      perf.kill('SIGINT');
      await exited;
      const calls = new Map<string, number>();
      // Summary rows: `   writev   1234   0   12.345 ...` (name, calls, errors, total ms, ...).
      for (const match of text.matchAll(/^\s+([a-z_0-9]+)\s+(\d+)\s+\d+\s+[\d.]+\s/gm)) {
        calls.set(match[1]!, (calls.get(match[1]!) ?? 0) + Number(match[2]));
      }
      return calls;
    },
  };
}

const dispatcher = new Agent({ connections: 64 });
const side = process.env.SYSCALLS_SIDE === 'bare' ? await startBare() : await startBaton(dispatcher);
const pids = servicePids(side);
try {
  await runPairs(side, dispatcher, { ...load, durationMs: 8_000 });
  const before = new Map(pids.map(([name, pid]) => [name, userAndSystemMs(pid)]));
  const traces = pids.map(([name, pid]) => [name, traceSyscalls(pid)] as const);
  const { pairs } = await runPairs(side, dispatcher, { ...load, durationMs: seconds * 1_000 });
  const after = new Map(pids.map(([name, pid]) => [name, userAndSystemMs(pid)]));
  console.log(`${side.name}: ${pairs} pairs in ${seconds} s; a pair's CPU ms (user / kernel) and system calls`);
  let allCalls = 0;
  for (const [name, trace] of traces) {
    const calls = await trace.stop();
    const was = before.get(name)!;
    const now = after.get(name)!;
    const total = [...calls.values()].reduce((sum, n) => sum + n, 0);
    allCalls += total;
    const ranked = [...calls].sort((a, b) => b[1] - a[1]).slice(0, top).map(([call, n]) => `${call} ${(n / pairs).toFixed(1)}`);
    console.log(`  ${name.padEnd(14)} user ${((now.userMs - was.userMs) / pairs).toFixed(2)} / kernel ${((now.systemMs - was.systemMs) / pairs).toFixed(2)} ms; ${(total / pairs).toFixed(1)} calls: ${ranked.join(', ')}`);
  }
  console.log(`  every service: ${(allCalls / pairs).toFixed(1)} system calls a pair`);
} finally {
  await side.stop();
  await dispatcher.close();
}
