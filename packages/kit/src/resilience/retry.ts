import { Code, KitError } from '../errors/index.ts';
import { type Clock, systemClock } from './clock.ts';
import { remainingMsOf } from './deadline.ts';
import type { Policy, PolicyContext } from './policy.ts';
import { isRetriesExhausted, markRetriesExhausted } from './retries-exhausted.ts';
import { createRetryBudget, type RetryBudget } from './retry-budget.ts';

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
  maxAttempts = 3,
  baseDelayMs = 50,
  maxDelayMs = 2_000,
  shouldRetry = isRetryable,
  isUnsent,
  unsentMaxDelayMs = 250,
  unsentWindowMs = 5_000,
  clock = systemClock,
  budget = createRetryBudget({ clock }),
  random = Math.random,
  remainingMs,
  onRetry,
  onGiveUp,
}: RetryOptions = {}): Policy {
  function backoffMs(error: KitError, attempt: number, capMs: number): number {
    const jittered = random() * Math.min(capMs, baseDelayMs * 2 ** (attempt - 1));
    return error.retryAfterSeconds === undefined ? jittered : Math.max(jittered, error.retryAfterSeconds * 1_000);
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
      const attemptNumber = (attempt: number): Promise<T> => {
        if (callerSignal.aborted) return Promise.reject(KitError.from(callerSignal.reason));
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
        if (callerSignal.aborted) throw KitError.from(callerSignal.reason);
        const error = KitError.from(thrown);
        const leftMs = remaining();
        if (leftMs <= 0 || !shouldRetry(error, attempt)) throw error;
        const unsent = isUnsent?.(error) === true;
        if (!unsent) sent++;
        if (sent >= maxAttempts) throw giveUp(error, attempt, 'max_attempts');
        const delayMs = backoffMs(error, attempt, unsent ? unsentMaxDelayMs : maxDelayMs);
        if (delayMs >= leftMs) throw giveUp(error, attempt, 'deadline');
        if (unsent) {
          firstUnsentAtMs ??= clock.now();
          if (clock.now() + delayMs - firstUnsentAtMs > unsentWindowMs) throw giveUp(error, attempt, 'unreachable');
        }
        // Withdraw last: a retry that the deadline forbids must not spend the budget.
        if (!unsent && !budget.tryWithdraw()) throw giveUp(error, attempt, 'budget_exhausted');
        onRetry?.({ error, attempt, delayMs });
        try {
          await clock.sleep(delayMs, callerSignal);
        } catch {
          const reason = KitError.from(callerSignal.reason);
          throw reason.code === Code.DeadlineExceeded ? giveUp(error, attempt, 'deadline') : reason;
        }
        return attemptNumber(attempt + 1);
      };

      return attemptNumber(1);
    },
  };
}
