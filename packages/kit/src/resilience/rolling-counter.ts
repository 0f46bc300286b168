import type { Clock } from './clock.ts';

/** A count over the last `windowMs`, kept in buckets so old events fall out without a list. */
export interface RollingCounter {
  add(count?: number): void;
  /** The events of the last window (give or take one bucket). */
  sum(): number;
  reset(): void;
}

export interface RollingCounterOptions {
  windowMs: number;
  clock: Clock;
  /** More buckets slide more smoothly; ten keeps the error under a tenth of the window. */
  buckets?: number;
}

/**
 * A sliding-window counter in constant memory: `buckets` slots of `windowMs / buckets` each.
 * Every operation is O(buckets) at worst and allocates nothing, so it can sit on a hot path.
 *
 * @example
 * const failures = createRollingCounter({ windowMs: 10_000, clock });
 * failures.add();
 * failures.sum(); // 1 until ten seconds have passed
 */
export function createRollingCounter({ windowMs, clock, buckets = 10 }: RollingCounterOptions): RollingCounter {
  const bucketMs = windowMs / buckets;
  const counts = new Float64Array(buckets);
  let total = 0;
  let currentBucket = Math.floor(clock.now() / bucketMs);

  const slot = (bucket: number) => ((bucket % buckets) + buckets) % buckets;

  // Empties the buckets that time has left behind, at most all of them once.
  function rotate(): void {
    const bucket = Math.floor(clock.now() / bucketMs);
    if (bucket <= currentBucket) return;
    const stale = Math.min(bucket - currentBucket, buckets);
    for (let step = 1; step <= stale; step++) {
      const index = slot(currentBucket + step);
      total -= counts[index] ?? 0;
      counts[index] = 0;
    }
    currentBucket = bucket;
  }

  return {
    add(count = 1) {
      rotate();
      const index = slot(currentBucket);
      counts[index] = (counts[index] ?? 0) + count;
      total += count;
    },
    sum() {
      rotate();
      return total;
    },
    reset() {
      counts.fill(0);
      total = 0;
      currentBucket = Math.floor(clock.now() / bucketMs);
    },
  };
}
