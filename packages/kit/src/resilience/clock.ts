import { setTimeout as delay } from 'node:timers/promises';

export interface SleepOptions {
  /**
   * Whether the pending sleep keeps the process alive. A backoff between retries should
   * (work is still under way); a deadline's timer should not (it only guards work).
   */
  ref?: boolean;
}

/**
 * Where the resilience policies read the time and wait. Production uses `systemClock`;
 * tests pass `createFakeClock()` from `@baton/kit/testing` (it is test code, not part of this
 * folder) and move time by hand, so nothing really waits.
 *
 * @example
 * const started = clock.now();
 * await clock.sleep(100, signal);
 */
export interface Clock {
  /** Milliseconds on a monotonic clock; only differences mean anything. */
  now(): number;
  /** Resolves after `ms`; rejects with the signal's reason as soon as the signal aborts. */
  sleep(ms: number, signal?: AbortSignal, options?: SleepOptions): Promise<void>;
}

// setTimeout cannot wait longer than this; a longer wait would silently become 1 ms.
const longestTimerMs = 2_147_483_647;

/**
 * The real clock: `performance.now()` (monotonic, unlike `Date.now()`, so a wall-clock jump
 * never fires every timeout at once) and the timers of `node:timers/promises`.
 *
 * @example
 * const breaker = createCircuitBreaker({ clock: systemClock });
 */
export const systemClock: Clock = Object.freeze({
  now: () => performance.now(),
  sleep: async function sleep(ms: number, signal?: AbortSignal, { ref = true }: SleepOptions = {}): Promise<void> {
    signal?.throwIfAborted();
    if (!(ms > 0)) return;
    try {
      await delay(Math.min(ms, longestTimerMs), undefined, { signal, ref });
    } catch (error) {
      // node:timers rejects with its own AbortError; callers expect the reason they aborted with.
      if (signal?.aborted) throw signal.reason;
      throw error;
    }
  },
});
