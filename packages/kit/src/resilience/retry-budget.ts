import { type Clock, systemClock } from './clock.ts';
import { createRollingCounter } from './rolling-counter.ts';
import { policyDefaults } from './defaults.ts';

/**
 * How many retries a client may still spend. Shared by every retry policy of one client, so a
 * failing dependency sees a bounded extra load instead of a multiple of its traffic.
 */
export interface RetryBudget {
  /** Counts one first attempt (not a retry); each one earns `ratio` of a retry. */
  recordRequest(): void;
  /** Takes one retry from the budget; false when the budget is spent and the caller must not retry. */
  tryWithdraw(): boolean;
  /** Retries that may be spent now, for a gauge: 0 means every retry is being refused. */
  available(): number;
}

export interface RetryBudgetOptions {
  /** Retries allowed per first attempt, over the window. */
  ratio?: number;
  /** A floor, so a client with little traffic can still retry at all. */
  minRetriesPerSecond?: number;
  windowMs?: number;
  clock?: Clock;
}

/**
 * A retry budget in the manner of Finagle and Linkerd: over the last `windowMs`, retries may
 * be at most `ratio` × requests + `minRetriesPerSecond` × window seconds. Under a sustained
 * outage this caps the extra load retries add at about `ratio` (10 %), where fixed attempts
 * per call would multiply it (×3 with three attempts, exactly when the dependency is weakest).
 *
 * @example
 * const budget = createRetryBudget({ ratio: 0.2 });
 * const retry = createRetry({ budget });
 */
export function createRetryBudget({ ratio = policyDefaults.retryBudget.ratio, minRetriesPerSecond = policyDefaults.retryBudget.minRetriesPerSecond, windowMs = policyDefaults.retryBudget.windowMs, clock = systemClock }: RetryBudgetOptions = {}): RetryBudget {
  const requests = createRollingCounter({ windowMs, clock });
  const retries = createRollingCounter({ windowMs, clock });
  const floor = minRetriesPerSecond * (windowMs / 1_000);
  return {
    recordRequest() {
      requests.add();
    },
    tryWithdraw() {
      if (retries.sum() + 1 > ratio * requests.sum() + floor) return false;
      retries.add();
      return true;
    },
    available() {
      return Math.max(0, Math.floor(ratio * requests.sum() + floor - retries.sum()));
    },
  };
}
