/** Recent latencies of one upstream, to ask for a percentile. */
export interface LatencyTracker {
  record(durationMs: number): void;
  /** The p-th quantile (0.95 for p95) of the recent samples, or undefined with fewer than `minSamples`. */
  quantile(p: number): number | undefined;
  readonly count: number;
}

export interface LatencyTrackerOptions {
  /** How many recent samples are kept; older ones fall out. */
  size?: number;
  /** Below this many samples a quantile means little, and none is given. */
  minSamples?: number;
}

/**
 * A ring buffer of the last `size` latencies. Recording is O(1) and allocates nothing; a
 * quantile sorts a copy (256 numbers: microseconds), which only hedged calls ask for.
 *
 * @example
 * const latency = createLatencyTracker();
 * latency.record(12.5);
 * const hedgeDelayMs = latency.quantile(0.95);
 */
export function createLatencyTracker({ size = 256, minSamples = 20 }: LatencyTrackerOptions = {}): LatencyTracker {
  const samples = new Float64Array(size);
  let count = 0;
  let next = 0;
  return {
    record(durationMs) {
      samples[next] = durationMs;
      next = (next + 1) % size;
      if (count < size) count++;
    },
    quantile(p) {
      if (count < Math.max(1, minSamples)) return undefined;
      const sorted = samples.slice(0, count).sort();
      const index = Math.min(count - 1, Math.max(0, Math.ceil(p * count) - 1));
      return sorted[index];
    },
    get count() {
      return count;
    },
  };
}
