/** Latency samples in milliseconds and what a report says of them. */
export function percentile(sortedMs: readonly number[], p: number): number {
  if (sortedMs.length === 0) return Number.NaN;
  const index = Math.min(sortedMs.length - 1, Math.max(0, Math.ceil((p / 100) * sortedMs.length) - 1));
  return sortedMs[index] ?? Number.NaN;
}

export interface LatencySummary { count: number; p50Ms: number; p90Ms: number; p99Ms: number; maxMs: number }

export function summarize(samplesMs: readonly number[]): LatencySummary {
  const sorted = [...samplesMs].sort((a, b) => a - b);
  return { count: sorted.length, p50Ms: percentile(sorted, 50), p90Ms: percentile(sorted, 90), p99Ms: percentile(sorted, 99), maxMs: sorted.at(-1) ?? Number.NaN };
}

export function median(values: readonly number[]): number {
  return percentile([...values].sort((a, b) => a - b), 50);
}

/**
 * Where the median of what `values` were drawn from lies, with `confidence`: between the k-th
 * smallest and the k-th largest value, k the largest rank with P(Binomial(n, ½) < k) ≤ half of
 * what the confidence leaves out. Distribution-free, as a median of rounds needs (one slow round
 * is no outlier to be trimmed but part of what the machine does): with 61 rounds at 95%, the
 * 23rd and the 39th of the sorted values; NaN for both when too few values allow any interval
 * (five or fewer at 95%). A ratio's target holds with a margin when all of this interval does.
 * Written here, not taken from a library: the one statistic the bench needs beyond the median,
 * a sum of binomial terms (kept as logarithms: 2^-n is no double past n = 1074).
 */
export function medianInterval(values: readonly number[], confidence = 0.95): { low: number; high: number } {
  const n = values.length;
  const tail = (1 - confidence) / 2;
  let k = 0;
  let logTerm = -n * Math.LN2; // ln P(X = 0)
  let atMostK = Math.exp(logTerm); // P(X ≤ k)
  while (atMostK <= tail && k < n) {
    k++;
    logTerm += Math.log((n - k + 1) / k);
    atMostK += Math.exp(logTerm);
  }
  if (k === 0) return { low: Number.NaN, high: Number.NaN };
  const sorted = [...values].sort((a, b) => a - b);
  return { low: sorted[k - 1] as number, high: sorted[n - k] as number };
}

/** How a report's note gives a ratio's interval (`medianInterval`'s): `95% interval 0.917-0.925`. */
export function formatInterval({ low, high }: { low: number; high: number }, confidence = 0.95): string {
  return `${Math.round(confidence * 100)}% interval ${low.toFixed(3)}-${high.toFixed(3)}`;
}
