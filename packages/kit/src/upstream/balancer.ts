import type { Clock } from '../resilience/index.ts';
import { systemClock } from '../resilience/clock.ts';
import { policyDefaults } from '../resilience/defaults.ts';

/** What a balancer knows of an instance. */
export interface BalancerCandidate {
  /** Attempts sent to it and not yet answered, by this client. */
  readonly outstanding: number;
  /** Its recent latency (peak-sensitive moving average), 0 before the first answer. */
  readonly ewmaLatencyMs: number;
  /** When `ewmaLatencyMs` last learnt from an attempt (the clock's milliseconds); undefined before. */
  readonly latencyAtMs?: number;
}

/** Chooses one of the instances a call may use; undefined only for an empty list. */
export type Balancer = <C extends BalancerCandidate>(candidates: readonly C[]) => C | undefined;

export interface PowerOfTwoChoicesOptions {
  /** In [0, 1); injected by tests. */
  random?: () => number;
  clock?: Clock;
  /** The time constant over which an instance's latency, unrefreshed, fades towards nothing. */
  latencyDecayMs?: number;
}

// An instance's latency is never taken as below this, so that its calls in flight still count
// when it has not answered yet (an unheard instance would otherwise take every call at once).
const latencyFloorMs = 1;

/**
 * Power of two choices by cost: pick two instances at random and send to the cheaper, where an
 * instance's cost is its latency × (its calls in flight + 1), as Finagle's and Linkerd's
 * peak-EWMA balancers do. It needs no shared state and avoids the herd that "always the
 * cheapest" causes when many clients see the same numbers.
 *
 * Why latency and not only calls in flight: an instance whose packets vanish (a partition)
 * has none in flight between the calls that wait out their timeout on it, so a count alone
 * sends it the next call whenever its healthy peer has one in flight (seen in the multi-host
 * proof, test/hosts). Its latency, by contrast, is the timeout it made a caller wait.
 *
 * Why it fades: a latency is only refreshed by calls, and an instance too slow to be chosen
 * gets none, so without fading one bad minute would keep it out of rotation for good. Unrefreshed,
 * it decays towards nothing (by e^(−t / latencyDecayMs)), so the instance is tried again, and a
 * call there either finds it well or refreshes the latency that keeps it out.
 *
 * @example
 * const client = createHttpClient({ name: 'catalog', urls, balancer: createPowerOfTwoChoices() });
 */
export function createPowerOfTwoChoices({ random = Math.random, clock = systemClock, latencyDecayMs = policyDefaults.balancer.latencyDecayMs }: PowerOfTwoChoicesOptions = {}): Balancer {
  function costOf(candidate: BalancerCandidate, nowMs: number): number {
    const ageMs = candidate.latencyAtMs === undefined ? 0 : Math.max(0, nowMs - candidate.latencyAtMs);
    const latencyMs = candidate.ewmaLatencyMs * Math.exp(-ageMs / latencyDecayMs);
    return Math.max(latencyMs, latencyFloorMs) * (candidate.outstanding + 1);
  }
  return function pickOfTwo<C extends BalancerCandidate>(candidates: readonly C[]): C | undefined {
    if (candidates.length <= 1) return candidates[0];
    const first = Math.floor(random() * candidates.length);
    // A second index drawn from the others, so the two are always distinct.
    let second = Math.floor(random() * (candidates.length - 1));
    if (second >= first) second++;
    const a = candidates[first];
    const b = candidates[second];
    if (a === undefined || b === undefined) return a ?? b;
    const nowMs = clock.now();
    return costOf(b, nowMs) < costOf(a, nowMs) ? b : a;
  };
}

/**
 * Each instance in turn, blind to load. For tests and for comparing against; prefer
 * `createPowerOfTwoChoices` in a service.
 *
 * @example
 * const client = createHttpClient({ name: 'catalog', urls, balancer: createRoundRobin() });
 */
export function createRoundRobin(): Balancer {
  let next = 0;
  return function pickInTurn<C extends BalancerCandidate>(candidates: readonly C[]): C | undefined {
    if (candidates.length === 0) return undefined;
    const chosen = candidates[next % candidates.length];
    next = (next + 1) % 1_000_000_007;
    return chosen;
  };
}
