/**
 * Resilience policies: in-process, no network. Every policy has one method,
 * `execute(fn, signal)`, and `wrap()` composes them, outermost first. A client to one
 * dependency usually reads:
 *
 * @example
 * const policy = wrap(
 *   createBulkhead({ maxConcurrent: 32 }),   // bound what this dependency can tie up
 *   createRetry({ budget }),                  // retry, within the deadline and the budget
 *   createCircuitBreaker({ onStateChange }),  // fail fast while it is down
 *   createTimeout(1_000),                     // bound each attempt
 * );
 * await policy.execute(({ signal }) => call(request, { signal }), signalOf(request));
 */
export { type Policy, type PolicyContext, wrap } from './policy.ts';
export type { Clock, SleepOptions } from './clock.ts';
export { type SignalUntilOptions, signalUntil, timeoutHeader } from './deadline.ts';
export { type TimeoutOptions, createTimeout } from './timeout.ts';
export { type GiveUpEvent, type GiveUpReason, type RetryEvent, type RetryOptions, createRetry } from './retry.ts';
export { type RetryBudget, type RetryBudgetOptions, createRetryBudget } from './retry-budget.ts';
export { type CircuitBreaker, type CircuitBreakerOptions, type CircuitState, createCircuitBreaker } from './circuit-breaker.ts';
export { type Bulkhead, type BulkheadOptions, createBulkhead } from './bulkhead.ts';
export { type Bandwidth, type BandwidthOptions, createBandwidth } from './bandwidth.ts';
export {
  type AdaptiveLimiter,
  type AdaptiveLimiterOptions,
  type LimiterOutcome,
  type LimiterToken,
  type Priority,
  type PriorityShares,
  createAdaptiveLimiter,
} from './concurrency-limit.ts';
/** An error a layer already retried, marked so no caller above retries it again. */
export { markRetriesExhausted } from './retries-exhausted.ts';
