import { type Clock, systemClock } from './clock.ts';

/**
 * How much a request matters when the service is overloaded: `critical` (health checks) is
 * never shed, `high` (checkout) may use the whole limit, `normal` less, `low` (browsing) least.
 */
export type Priority = 'critical' | 'high' | 'normal' | 'low';

/**
 * How a request ended, as far as this service's capacity is concerned: `success` teaches the
 * limiter its latency, `dropped` (it timed out or was given up on) says the service is too slow,
 * and `ignore` says nothing (a 4xx, a caller that went away, an upstream's failure).
 */
export type LimiterOutcome = 'success' | 'dropped' | 'ignore';

/** A request's place in the limit; release it exactly once, when the answer is done. */
export interface LimiterToken {
  release(outcome: LimiterOutcome, latencyMs: number): void;
}

/** The share of the limit each priority may fill before it is shed. */
export interface PriorityShares {
  high: number;
  normal: number;
  low: number;
}

export interface AdaptiveLimiterOptions {
  initialLimit?: number;
  minLimit?: number;
  maxLimit?: number;
  /**
   * The limit is multiplied by at most this after a window with a drop or with queueing (the
   * "MD"); queueing far past the tolerance cuts deeper, down to half the limit per window.
   */
  backoffRatio?: number;
  /** A window's average latency may be this many times the baseline before it counts as queueing. */
  latencyTolerance?: number;
  /** The limit changes at most once per window, once the window holds `minWindowSamples` samples. */
  windowMs?: number;
  minWindowSamples?: number;
  /** The baseline is the lowest window average of this many recent windows. */
  baselineWindows?: number;
  shares?: PriorityShares;
  clock?: Clock;
  onShed?: (priority: Priority) => void;
  onLimitChange?: (from: number, to: number) => void;
}

export interface AdaptiveLimiter {
  /**
   * A token, or undefined when the request must be shed. Never undefined for `critical`.
   * `kind` (the route) groups requests whose latency is compared with their own baseline.
   */
  acquire(priority: Priority, kind?: string): LimiterToken | undefined;
  /** The current limit on requests in flight. */
  readonly limit: number;
  readonly inFlight: number;
}

/**
 * Server-side load shedding: a limit on requests in flight that the limiter learns from
 * latency (AIMD with a gradient on the decrease, measured per window as Netflix's
 * concurrency-limits does):
 *
 * - After each window (`windowMs`, at least `minWindowSamples` answers) each kind of request
 *   (a route) compares its average latency in the window with its own baseline: the lowest of
 *   its window averages over the last `baselineWindows` windows, i.e. its latency when nothing
 *   queues. The window's ratio is those comparisons averaged over every answer, so a shift in
 *   the mix of fast and slow routes is not taken for queueing.
 * - The limit moves only after a busy window, one whose requests in flight reached half the
 *   limit: while in flight stays far below it, the limit is not what makes requests wait (they
 *   wait on each other, on a lock, on a slow upstream), and cutting it would only shed requests
 *   the service can serve.
 * - A busy window whose ratio is above `latencyTolerance` (requests are queueing) cuts the
 *   limit in proportion, by `latencyTolerance / ratio`, but never by more than half nor less
 *   than `backoffRatio` in one window: a service whose latency tripled under a sudden overload
 *   sheds within a few windows, not after minutes of 10 % steps.
 * - A busy window with a drop (a request that ran out of time) cuts it by `backoffRatio`.
 * - Any other busy window grows the limit by √limit (at least 1): additive, but a large limit
 *   does not take minutes to grow back. An idle service learns nothing, so its limit stays.
 *
 * A baseline that is a minimum over a minute of windows, so a burst of overload does not become
 * the new normal. (An overload that lasts longer than the baseline's horizon does drift into
 * it, as in every latency-only limiter; then the drops, requests timing out at their deadline,
 * still pull the limit down.)
 * `critical` requests count in flight but neither teach the limiter nor are ever shed.
 * Shedding is a comparison and allocates nothing (its cost per request is measured in
 * bench/scenarios/overload-goodput.ts).
 *
 * Written by hand: the known libraries (Netflix's concurrency-limits, Envoy's adaptive
 * concurrency) are not for Node, and this is the heart of how a Baton service stays up.
 *
 * @example
 * const limiter = createAdaptiveLimiter({ onShed: (priority) => shed.inc({ priority }) });
 * const token = limiter.acquire('normal');
 * if (token === undefined) return reply503();
 * // ... when the answer is done:
 * token.release('success', performance.now() - startedAt);
 */
// The most one window may take off the limit: a gradient of latency alone could drop it to the
// floor on one noisy window.
const deepestCut = 0.5;
// Kinds of request with a baseline of their own; a service has a few dozen routes at most.
const maxKinds = 256;

export function createAdaptiveLimiter({
  initialLimit = 20,
  minLimit = 4,
  maxLimit = 1_000,
  backoffRatio = 0.9,
  latencyTolerance = 2,
  windowMs = 100,
  minWindowSamples = 5,
  baselineWindows = 600,
  shares = { high: 1, normal: 0.8, low: 0.5 },
  clock = systemClock,
  onShed,
  onLimitChange,
}: AdaptiveLimiterOptions = {}): AdaptiveLimiter {
  let limit = Math.min(maxLimit, Math.max(minLimit, initialLimit));
  let inFlight = 0;

  // The window being measured.
  let windowStartMs = clock.now();
  let windowSamples = 0;
  let windowDropped = false;
  let windowMaxInFlight = 0;

  // Latency per kind of request (a route): each has its own baseline, the lowest of its recent
  // window averages, so a change in the mix of fast and slow routes is not taken for queueing.
  interface KindStats { sumMs: number; count: number; averages: Float64Array; next: number }
  const kinds = new Map<string, KindStats>();
  function kindOf(key: string): KindStats {
    let stats = kinds.get(key);
    if (stats === undefined) {
      // Bounded: past this many kinds, new ones share one entry (a route per user id, say).
      if (kinds.size >= maxKinds) return kindOf('');
      stats = { sumMs: 0, count: 0, averages: new Float64Array(baselineWindows).fill(Infinity), next: 0 };
      kinds.set(key, stats);
    }
    return stats;
  }

  function setLimit(next: number): void {
    const bounded = Math.min(maxLimit, Math.max(minLimit, next));
    if (Math.floor(bounded) !== Math.floor(limit)) onLimitChange?.(Math.floor(limit), Math.floor(bounded));
    limit = bounded;
  }

  // How many times its own baseline this window's latency was, averaged over every answer.
  function latencyRatio(): number | undefined {
    let weighted = 0;
    let samples = 0;
    for (const stats of kinds.values()) {
      if (stats.count === 0) continue;
      const averageMs = stats.sumMs / stats.count;
      stats.averages[stats.next] = averageMs;
      stats.next = (stats.next + 1) % baselineWindows;
      let baselineMs = Infinity;
      for (const average of stats.averages) if (average < baselineMs) baselineMs = average;
      // A route that answers in no time at all has nothing to compare; count it as on par.
      weighted += (baselineMs > 0 ? averageMs / baselineMs : 1) * stats.count;
      samples += stats.count;
      stats.sumMs = 0;
      stats.count = 0;
    }
    return samples > 0 ? weighted / samples : undefined;
  }

  function closeWindow(): void {
    // A window of drops only has no latency to compare.
    const ratio = latencyRatio();
    // Only a busy window says anything about the limit: while in flight stays far below it, the
    // limit is not what makes requests wait (they wait on each other, on a lock, on a slow
    // upstream), and cutting it would shed requests the service can serve.
    const busy = windowMaxInFlight * 2 >= limit;
    if (busy && ratio !== undefined && ratio > latencyTolerance) setLimit(limit * Math.min(backoffRatio, Math.max(deepestCut, latencyTolerance / ratio)));
    else if (busy && windowDropped) setLimit(limit * backoffRatio);
    else if (busy && !windowDropped) setLimit(limit + Math.max(1, Math.sqrt(limit)));

    windowStartMs = clock.now();
    windowSamples = 0;
    windowDropped = false;
    windowMaxInFlight = 0;
  }

  function learn(outcome: LimiterOutcome, latencyMs: number, inFlightBefore: number, kind: string): void {
    if (outcome === 'ignore') return;
    if (outcome === 'dropped') windowDropped = true;
    else {
      windowSamples++;
      const stats = kindOf(kind);
      stats.sumMs += latencyMs;
      stats.count++;
    }
    if (inFlightBefore > windowMaxInFlight) windowMaxInFlight = inFlightBefore;
    if (clock.now() - windowStartMs >= windowMs && (windowSamples >= minWindowSamples || windowDropped)) closeWindow();
  }

  function shareOf(priority: Exclude<Priority, 'critical'>): number {
    switch (priority) {
      case 'high': return shares.high;
      case 'normal': return shares.normal;
      case 'low': return shares.low;
    }
  }

  return {
    get limit() {
      return Math.floor(limit);
    },
    get inFlight() {
      return inFlight;
    },
    acquire: function acquire(priority: Priority, kind = ''): LimiterToken | undefined {
      if (priority !== 'critical' && inFlight >= limit * shareOf(priority)) {
        onShed?.(priority);
        return undefined;
      }
      inFlight++;
      let released = false;
      return {
        release: function release(outcome: LimiterOutcome, latencyMs: number): void {
          // Released twice (a close after an error, say) must not free a slot twice.
          if (released) return;
          released = true;
          const inFlightBefore = inFlight;
          inFlight--;
          if (priority !== 'critical') learn(outcome, latencyMs, inFlightBefore, kind);
        },
      };
    },
  };
}
