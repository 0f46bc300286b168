import type { Agent } from 'undici';
import { cpuMsBetween } from '../../harness/process-cpu.ts';
import { runPairs } from './pairs.ts';
import type { Side } from './sides.ts';

/** What a side did over the timed rounds of one load. */
export interface Tally {
  pairsPerSecond: number[];
  /** Each round's Node CPU ms per pair (every Node process of the side; PostgreSQL left out). */
  nodeCpuMsPerPair: number[];
  pairs: number;
  failures: number;
  orderLatenciesMs: number[];
  /** CPU ms per process name over the rounds (PostgreSQL: the server and its backends). */
  cpuMs: Map<string, number>;
}

export const emptyTally = (): Tally => ({ pairsPerSecond: [], nodeCpuMsPerPair: [], pairs: 0, failures: 0, orderLatenciesMs: [], cpuMs: new Map() });

/** One timed round of pairs on `side`, added to its tally with the CPU each process spent in it. */
export async function measureRound(side: Side, dispatcher: Agent, load: { concurrency: number; durationMs: number; skuOf: (buyer: number) => string }, tally: Tally): Promise<void> {
  const before = side.cpu();
  const round = await runPairs(side, dispatcher, load);
  const after = side.cpu();
  let nodeMs = 0;
  for (const [name, tree] of after) {
    const ms = cpuMsBetween(before.get(name) ?? new Map(), tree);
    tally.cpuMs.set(name, (tally.cpuMs.get(name) ?? 0) + ms);
    if (name !== 'postgres') nodeMs += ms;
  }
  tally.pairsPerSecond.push(round.pairs / round.seconds);
  tally.nodeCpuMsPerPair.push(nodeMs / Math.max(1, round.pairs));
  tally.pairs += round.pairs;
  tally.failures += round.failures;
  tally.orderLatenciesMs.push(...round.orderLatenciesMs);
}

/** The CPU ms of the side's Node processes over its rounds (PostgreSQL and `without` left out). */
export const nodeCpuMs = (tally: Tally, without: readonly string[] = []) => [...tally.cpuMs].filter(([name]) => name !== 'postgres' && !without.includes(name)).reduce((sum, [, ms]) => sum + ms, 0);

/**
 * `rounds` timed rounds of `load` on each side, the sides one after the other, the one that goes
 * first swapping each round: a tally per side, by name, whose rounds of one index ran back to back.
 */
export async function alternatingRounds(sides: readonly Side[], dispatcher: Agent, load: { concurrency: number; durationMs: number; skuOf: (buyer: number) => string }, rounds: number): Promise<Map<string, Tally>> {
  const tallies = new Map(sides.map((side) => [side.name, emptyTally()]));
  for (let round = 0; round < rounds; round++) {
    for (const side of round % 2 === 0 ? sides : [...sides].reverse()) await measureRound(side, dispatcher, load, tallies.get(side.name) as Tally);
  }
  return tallies;
}

/** Round by round, `of(numerator)` over `of(denominator)`: the ratios of rounds that ran back to back. */
export function roundRatios(numerator: Tally, denominator: Tally, of: (tally: Tally) => number[]): number[] {
  const below = of(denominator);
  return of(numerator).map((value, i) => value / (below[i] ?? Number.NaN));
}
