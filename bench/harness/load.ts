// The closed and open loops are the chaos package's (its overload scenarios drive them too).
export { closedLoop, openLoop } from '../../packages/chaos/src/loops.ts';
import { closedLoop } from '../../packages/chaos/src/loops.ts';

/**
 * Runs every variant once per round, in an order that rotates from round to round, for many
 * short rounds: on a shared machine the load drifts, and two variants measured back to back see
 * nearly the same machine. `pairedRatio(a, b)` is the median of each round's a/b, so a change of
 * load between rounds cancels out, where the ratio of two medians would not.
 */
export async function pairedRounds(variants: Record<string, () => Promise<unknown>>, { concurrency, rounds, roundMs, onRound }: {
  concurrency: number; rounds: number; roundMs: number;
  /**
   * Called as a variant's timed round begins; what it returns is called as it ends, with what
   * the round completed, and the next round waits for it: a variant's after-effects (spans still
   * to be sent) are then its own, not charged to whichever variant runs next.
   */
  onRound?: (name: string) => (completed: number) => void | Promise<void>;
}) {
  const names = Object.keys(variants);
  const perSecond: Record<string, number[]> = Object.fromEntries(names.map((name) => [name, []]));
  for (const name of names) await closedLoop(variants[name] as () => Promise<unknown>, { concurrency, durationMs: 300 }); // warm-up
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < names.length; i++) {
      const name = names[(round + i) % names.length] as string;
      const ended = onRound?.(name);
      const result = await closedLoop(variants[name] as () => Promise<unknown>, { concurrency, durationMs: roundMs });
      await ended?.(result.latenciesMs.length);
      (perSecond[name] as number[])[round] = result.perSecond;
    }
  }
  const medianOf = (values: readonly number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;
  return {
    perSecond: (name: string) => medianOf(perSecond[name] ?? []),
    pairedRatio: (name: string, to: string) => medianOf((perSecond[name] ?? []).map((value, round) => value / (perSecond[to]?.[round] ?? Number.NaN))),
  };
}
