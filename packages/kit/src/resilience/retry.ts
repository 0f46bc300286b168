import { Code, KitError } from '../errors/index.ts';
import { type Clock, systemClock } from './clock.ts';
import { remainingMsOf } from './deadline.ts';
import type { Policy, PolicyContext } from './policy.ts';
import { isRetriesExhausted, markRetriesExhausted } from './retries-exhausted.ts';
import { createRetryBudget, type RetryBudget } from './retry-budget.ts';
import { policyDefaults } from './defaults.ts';

/** Reported before each retry, for a log line and a counter. */
export interface RetryEvent {
  error: KitError;
  /** The attempt that failed; the next is `attempt + 1`. */
  attempt: number;
  delayMs: number;
}

/**
 * Why a retryable error was thrown anyway: the attempts ran out, the retry budget was spent
 * (count these: they mean the dependency is failing for many callers), or the next try would
 * start after the caller's deadline.
 */
export type GiveUpReason = 'max_attempts' | 'budget_exhausted' | 'deadline' | 'unreachable';

export interface GiveUpEvent {
  error: KitError;
  attempt: number;
  reason: GiveUpReason;
}

export interface RetryOptions {
  /** Tries in all, the first included. */
  maxAttempts?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Which errors are worth another try; `isRetryable` by default. */
  shouldRetry?: (error: KitError, attempt: number) => boolean;
  /**
   * Whether a failed attempt surely never reached the dependency (a refused connection, a
   * stream refused by an instance going away, this client's own breaker): another try then
   * adds no load to it, so it spends neither an attempt of `maxAttempts` nor the budget, and
   * waits at most `unsentMaxDelayMs` (or what the error asks). Such tries go on for at most
   * `unsentWindowMs` (an instance restarting comes back within it; a dead one is reported
   * as unavailable, not waited on until the deadline), and never past the caller's deadline.
   */
  isUnsent?: (error: KitError) => boolean;
  /** The least wait before another try after this error; by default its `retryAfterSeconds`. */
  retryAfterFloorMs?: (error: KitError) => number | undefined;
  unsentMaxDelayMs?: number;
  unsentWindowMs?: number;
  /** Shared by all retry policies of one client; by default each policy gets its own. */
  budget?: RetryBudget;
  clock?: Clock;
  /** In [0, 1); injected by tests to pin the jitter. */
  random?: () => number;
  /**
   * Milliseconds the caller has left. By default read from the deadline attached to the
   * signal passed to `execute` (see `attachDeadline`); no deadline means no limit.
   */
  remainingMs?: () => number;
  onRetry?: (event: RetryEvent) => void;
  onGiveUp?: (event: GiveUpEvent) => void;
}

/**
 * The default answer to "try again?": yes for a dependency that is unavailable or too slow
 * on this attempt, and for rate limiting that says when to come back; never for an error an
 * upstream already retried, nor for what a retry cannot change (4xx other than 408/429, a
 * cancellation, a bug). The caller's own deadline is checked by the retry loop itself.
 *
 * @example
 * createRetry({ shouldRetry: (err) => isRetryable(err) || err.code === Code.Aborted });
 */
export function isRetryable(error: KitError): boolean {
  if (isRetriesExhausted(error)) return false;
  switch (error.code) {
    case Code.Unavailable:
    case Code.DeadlineExceeded:
      return true;
    case Code.ResourceExhausted:
      return error.retryAfterSeconds !== undefined;
    default:
      return false;
  }
}

/**
 * Tries again after failures worth retrying, with exponential backoff and full jitter
 * (a random wait in [0, min(maxDelayMs, baseDelayMs × 2^(attempt−1))), so callers that failed
 * together do not come back together). A `retryAfterSeconds` on the error is a floor on the
 * wait. It never waits past the caller's deadline, stops at once when the caller aborts, and
 * retries only while the retry budget allows. An error it gives up on is marked with
 * `markRetriesExhausted`, so the layers above do not retry it again. When the caller's deadline
 * passes while it waits to try again, the last failure is what it throws: that, not the
 * deadline, is why the call failed.
 *
 * @example
 * const retry = createRetry({ maxAttempts: 3, onRetry: ({ attempt }) => retries.inc({ attempt }) });
 * await retry.execute(({ signal }) => getUser(id, { signal }), signal);
 */
export function createRetry({
  maxAttempts = policyDefaults.retry.maxAttempts,
  baseDelayMs = policyDefaults.retry.baseDelayMs,
  maxDelayMs = policyDefaults.retry.maxDelayMs,
  shouldRetry = isRetryable,
  isUnsent,
  retryAfterFloorMs = (error) => (error.retryAfterSeconds === undefined ? undefined : error.retryAfterSeconds * 1_000),
  unsentMaxDelayMs = policyDefaults.retry.unsentMaxDelayMs,
  unsentWindowMs = policyDefaults.retry.unsentWindowMs,
  clock = systemClock,
  budget = createRetryBudget({ clock }),
  random = Math.random,
  remainingMs,
  onRetry,
  onGiveUp,
}: RetryOptions = {}): Policy {
  function backoffMs(error: KitError, attempt: number, capMs: number): number {
    const jittered = random() * Math.min(capMs, baseDelayMs * 2 ** (attempt - 1));
    const floorMs = retryAfterFloorMs(error);
    return floorMs === undefined ? jittered : Math.max(jittered, floorMs);
  }

  function giveUp(error: KitError, attempt: number, reason: GiveUpReason): KitError {
    onGiveUp?.({ error, attempt, reason });
    // A policy allowed one attempt never retried, so it has nothing to tell the layers above.
    return reason === 'max_attempts' && attempt === 1 ? error : markRetriesExhausted(error);
  }

  return {
    // Not an async function: the first attempt, which is nearly every call, costs one promise;
    // only a failure goes down the async path that decides, waits and tries again.
    execute: function executeWithRetry<T>(fn: (context: PolicyContext) => Promise<T>, signal?: AbortSignal): Promise<T> {
      const callerSignal = signal ?? new AbortController().signal;
      const remaining = remainingMs ?? (() => remainingMsOf(callerSignal, clock) ?? Infinity);
      budget.recordRequest();

      // Attempts that reached the dependency (or may have): what `maxAttempts` counts.
      let sent = 0;
      let firstUnsentAtMs: number | undefined;
      // The failure of a try that never reached the dependency: when the deadline then passes
      // (while it waits, or during the next try), that is why the call failed, not the deadline.
      let lastFailure: KitError | undefined;
      const ended = (attempt: number): KitError => {
        const reason = KitError.from(callerSignal.reason);
        return reason.code === Code.DeadlineExceeded && lastFailure !== undefined ? giveUp(lastFailure, attempt, 'deadline') : reason;
      };
      const attemptNumber = (attempt: number): Promise<T> => {
        if (callerSignal.aborted) return Promise.reject(ended(attempt - 1));
        let work: Promise<T>;
        try {
          work = fn({ signal: callerSignal, attempt });
        } catch (thrown) {
          work = Promise.reject(thrown);
        }
        return work.then(undefined, (thrown: unknown) => afterFailure(thrown, attempt));
      };

      const afterFailure = async (thrown: unknown, attempt: number): Promise<T> => {
        // The caller's own end (abort or deadline) is final whatever the function threw.
        if (callerSignal.aborted) throw ended(attempt);
        const error = KitError.from(thrown);
        const leftMs = remaining();
        if (leftMs <= 0 || !shouldRetry(error, attempt)) throw error;
        const unsent = isUnsent?.(error) === true;
        if (!unsent) sent++;
        if (sent >= maxAttempts) throw giveUp(error, attempt, 'max_attempts');
        const delayMs = backoffMs(error, attempt, unsent ? unsentMaxDelayMs : maxDelayMs);
        // A refusal of this client's own breaker says less than the failure that opened it.
        const news = unsent && lastFailure !== undefined && error.reason === 'circuit_open' ? lastFailure : error;
        if (delayMs >= leftMs) throw giveUp(news, attempt, 'deadline');
        if (unsent) {
          firstUnsentAtMs ??= clock.now();
          if (clock.now() + delayMs - firstUnsentAtMs > unsentWindowMs) throw giveUp(news, attempt, 'unreachable');
        }
        // Withdraw last: a retry that the deadline forbids must not spend the budget.
        if (!unsent && !budget.tryWithdraw()) throw giveUp(error, attempt, 'budget_exhausted');
        onRetry?.({ error, attempt, delayMs });
        // Only a failure that never reached it: while the kit waits for an instance to come
        // back, that is the news; after a slow try, the deadline is.
        lastFailure = unsent ? news : undefined;
        try {
          await clock.sleep(delayMs, callerSignal);
        } catch {
          throw ended(attempt);
        }
        return attemptNumber(attempt + 1);
      };

      return attemptNumber(1);
    },
  };
}
