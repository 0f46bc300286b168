// The closed and open loops are the chaos package's (its overload scenarios drive them too).
export { closedLoop, openLoop } from '../../packages/chaos/src/loops.ts';
import { closedLoop } from '../../packages/chaos/src/loops.ts';
import { medianInterval } from './stats.ts';

/**
 * Runs every variant once per round, in an order that rotates from round to round, for many
 * short rounds: on a shared machine the load drifts, and two variants measured back to back see
 * nearly the same machine. `pairedRatio(a, b)` is the median of each round's a/b, so a change of
 * load between rounds cancels out, where the ratio of two medians would not. CPU time per call
 * is this process's (`process.cpuUsage`, every thread of it): what it means depends on what runs
 * in the process (a client and the server it calls, in a scenario that starts both).
 */
export async function pairedRounds(variants: Record<string, () => Promise<unknown>>, { concurrency, rounds, roundMs, onRound, prepare, warmUpMs = 100 }: {
  concurrency: number; rounds: number; roundMs: number;
  /**
   * Called as a variant's timed round begins; what it returns is called as it ends, with what
   * the round completed, and the next round waits for it: a variant's after-effects (spans still
   * to be sent) are then its own, not charged to whichever variant runs next.
   */
  onRound?: (name: string) => (completed: number) => void | Promise<void>;
  /**
   * Makes what a variant's round runs against (its server, its client) before the round, and
   * returns what takes it down after: every round then has instances of its own. Two identical
   * instances made once can come out several per cent apart for the whole run (each settles its
   * own way: the control of `service-identity`); made anew each round, what one instance's
   * settling costs is one round's, not the whole run's. Each round is warmed for `warmUpMs`
   * (untimed) on its new instances first.
   */
  prepare?: (name: string) => Promise<() => Promise<void>>;
  warmUpMs?: number;
}) {
  const names = Object.keys(variants);
  const perSecond: Record<string, number[]> = Object.fromEntries(names.map((name) => [name, []]));
  const cpuUsPerCall: Record<string, number[]> = Object.fromEntries(names.map((name) => [name, []]));
  const errors: Record<string, number> = Object.fromEntries(names.map((name) => [name, 0]));
  const run = (name: string, durationMs: number) => closedLoop(variants[name] as () => Promise<unknown>, { concurrency, durationMs });
  for (const name of names) { // warm-up
    const takeDown = await prepare?.(name);
    await run(name, 300);
    await takeDown?.();
  }
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < names.length; i++) {
      const name = names[(round + i) % names.length] as string;
      const takeDown = await prepare?.(name);
      if (takeDown !== undefined) await run(name, warmUpMs);
      const ended = onRound?.(name);
      const cpuBefore = process.cpuUsage();
      const result = await run(name, roundMs);
      const cpu = process.cpuUsage(cpuBefore);
      await ended?.(result.latenciesMs.length);
      (perSecond[name] as number[])[round] = result.perSecond;
      (cpuUsPerCall[name] as number[])[round] = (cpu.user + cpu.system) / Math.max(1, result.latenciesMs.length);
      errors[name] = (errors[name] ?? 0) + result.errors;
      await takeDown?.();
    }
  }
  const medianOf = (values: readonly number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;
  const ratios = (values: Record<string, number[]>, name: string, to: string) => (values[name] ?? []).map((value, round) => value / (values[to]?.[round] ?? Number.NaN));
  return {
    perSecond: (name: string) => medianOf(perSecond[name] ?? []),
    pairedRatio: (name: string, to: string) => medianOf(ratios(perSecond, name, to)),
    /** Where the paired ratio lies with 95% confidence (`medianInterval` of the rounds' ratios). */
    pairedInterval: (name: string, to: string) => medianInterval(ratios(perSecond, name, to)),
    cpuUsPerCall: (name: string) => medianOf(cpuUsPerCall[name] ?? []),
    pairedCpuRatio: (name: string, to: string) => medianOf(ratios(cpuUsPerCall, name, to)),
    pairedCpuInterval: (name: string, to: string) => medianInterval(ratios(cpuUsPerCall, name, to)),
    errors: (name: string) => errors[name] ?? 0,
  };
}
