/** What a policy hands to the function it runs. */
export interface PolicyContext {
  /** Fires when this call must stop: the caller gave up, a timeout or the deadline passed. Pass it on. */
  signal: AbortSignal;
  /** 1 for the first try; a retry layer counts up from there. */
  attempt: number;
}

/**
 * The one shape every resilience policy shares (as in cockatiel): it runs a function and
 * decides what happens around it. Policies never see what the function does, only how it ends.
 *
 * @example
 * const result = await policy.execute(({ signal }) => fetchStock(sku, { signal }), request.signal);
 */
export interface Policy {
  execute<T>(fn: (context: PolicyContext) => Promise<T>, signal?: AbortSignal): Promise<T>;
}

/**
 * Composes policies into one, the first outermost, and passes each layer's signal to the next,
 * so a timeout or the caller's abort reaches the function however deep it sits. The function
 * sees the highest attempt number any layer reports: with one retry layer, that layer's count.
 *
 * @example
 * const policy = wrap(createRetry(), createCircuitBreaker(), createTimeout(2_000));
 * await policy.execute(({ signal }) => reserve(request, { signal }), signal);
 */
export function wrap(...policies: Policy[]): Policy {
  function executeFrom<T>(index: number, fn: (context: PolicyContext) => Promise<T>, signal: AbortSignal | undefined, attempt: number): Promise<T> {
    const policy = policies[index];
    if (policy === undefined) return fn({ signal: signal ?? new AbortController().signal, attempt });
    return policy.execute((context) => executeFrom(index + 1, fn, context.signal, Math.max(attempt, context.attempt)), signal);
  }
  return {
    execute: function executeWrapped<T>(fn: (context: PolicyContext) => Promise<T>, signal?: AbortSignal): Promise<T> {
      return executeFrom(0, fn, signal, 1);
    },
  };
}
