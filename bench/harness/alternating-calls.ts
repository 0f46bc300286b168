import { median, medianInterval } from './stats.ts';

/**
 * Calls every variant once per set, one call at a time, in an order drawn anew for each set, and
 * times each call: its wall time and the process's CPU time (`process.cpuUsage`, every thread,
 * to the microsecond) while it ran. Two variants compared set by set were measured some hundred
 * microseconds apart, on the same machine: where `pairedRounds`' rounds of a few hundred
 * milliseconds see this machine's speed move by ±20% from one round to the next (bench/README.md,
 * service-identity), a set sees none of that, so a cost of a few per cent is resolved to a tenth
 * of one. What it does not see is concurrency (one call in flight: no batching of reads and
 * writes, no queue): a cost per call, not a throughput under load.
 *
 * `pairedTime(a, b)` and `pairedCpu(a, b)` are the median of the sets' a/b and its 95% interval.
 */
export async function alternatingCalls(variants: Record<string, () => Promise<unknown>>, { sets, warmUpSets = 2_000 }: { sets: number; warmUpSets?: number }) {
  const names = Object.keys(variants);
  const wallUs: Record<string, number[]> = Object.fromEntries(names.map((name) => [name, []]));
  const cpuUs: Record<string, number[]> = Object.fromEntries(names.map((name) => [name, []]));
  const order = [...names];
  for (let set = 0; set < warmUpSets + sets; set++) {
    // Fisher-Yates: no variant always follows another, so none inherits another's leftovers.
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1));
      [order[i], order[j]] = [order[j] as string, order[i] as string];
    }
    for (const name of order) {
      const cpuBefore = process.cpuUsage();
      const startedMs = performance.now();
      await (variants[name] as () => Promise<unknown>)();
      const elapsedMs = performance.now() - startedMs;
      const cpu = process.cpuUsage(cpuBefore);
      if (set < warmUpSets) continue;
      (wallUs[name] as number[]).push(elapsedMs * 1000);
      (cpuUs[name] as number[]).push(cpu.user + cpu.system);
    }
  }
  const paired = (values: Record<string, number[]>, name: string, to: string) => {
    const ratios = (values[name] ?? []).map((value, set) => value / (values[to]?.[set] ?? Number.NaN));
    return { median: median(ratios), ...medianInterval(ratios) };
  };
  return {
    wallUsPerCall: (name: string) => median(wallUs[name] ?? []),
    cpuUsPerCall: (name: string) => median(cpuUs[name] ?? []),
    pairedTime: (name: string, to: string) => paired(wallUs, name, to),
    pairedCpu: (name: string, to: string) => paired(cpuUs, name, to),
  };
}
