/** What a balancer knows of an instance. */
export interface BalancerCandidate {
  /** Attempts sent to it and not yet answered, by this client. */
  readonly outstanding: number;
  /** Its recent latency (an exponentially weighted moving average), 0 before the first answer. */
  readonly ewmaLatencyMs: number;
}

/** Chooses one of the instances a call may use; undefined only for an empty list. */
export type Balancer = <C extends BalancerCandidate>(candidates: readonly C[]) => C | undefined;

export interface PowerOfTwoChoicesOptions {
  /** In [0, 1); injected by tests. */
  random?: () => number;
}

/**
 * Power of two choices: pick two instances at random and send to the one with fewer calls in
 * flight (ties go to the lower latency). It needs no shared state, reacts at once to an
 * instance that slows down (its calls pile up), and avoids the herd that "always the least
 * loaded" causes when many clients see the same numbers.
 *
 * @example
 * const client = createHttpClient({ name: 'catalog', urls, balancer: createPowerOfTwoChoices() });
 */
export function createPowerOfTwoChoices({ random = Math.random }: PowerOfTwoChoicesOptions = {}): Balancer {
  return function pickOfTwo<C extends BalancerCandidate>(candidates: readonly C[]): C | undefined {
    if (candidates.length <= 1) return candidates[0];
    const first = Math.floor(random() * candidates.length);
    // A second index drawn from the others, so the two are always distinct.
    let second = Math.floor(random() * (candidates.length - 1));
    if (second >= first) second++;
    const a = candidates[first];
    const b = candidates[second];
    if (a === undefined || b === undefined) return a ?? b;
    if (a.outstanding !== b.outstanding) return a.outstanding < b.outstanding ? a : b;
    return b.ewmaLatencyMs < a.ewmaLatencyMs ? b : a;
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
