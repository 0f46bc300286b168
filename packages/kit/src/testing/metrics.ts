import parsePrometheusTextFormat from 'parse-prometheus-text-format';

export interface MetricSample {
  value?: string;
  labels?: Record<string, string>;
  buckets?: Record<string, string>;
  count?: string;
  sum?: string;
}

export interface MetricFamily {
  name: string;
  help: string;
  type: 'COUNTER' | 'GAUGE' | 'HISTOGRAM' | 'SUMMARY' | 'UNTYPED';
  metrics: MetricSample[];
}

/**
 * Parses a `/metrics` answer with a real Prometheus text-format parser (it throws on a line
 * that is not valid), keyed by family name.
 *
 * The parser keeps counters and gauges series by series. A histogram with labels, though, it
 * folds into one sample whose `buckets` mixes all its series and drops their `_count` and
 * `_sum`: read a histogram's presence and bucket bounds from it, not its per-series counts.
 */
export function parseMetrics(text: string): Map<string, MetricFamily> {
  return new Map(parsePrometheusTextFormat(text).map((family) => [family.name, family]));
}

/**
 * The value of the series of `name` whose labels include `labels`, summed if several match;
 * 0 when none does yet (a counter with no increments has no series).
 */
export function metricValue(families: Map<string, MetricFamily>, name: string, labels: Record<string, string> = {}): number {
  const family = families.get(name);
  if (family === undefined) throw new Error(`no metric family ${name}`);
  let total = 0;
  for (const sample of family.metrics) {
    const matches = Object.entries(labels).every(([key, value]) => sample.labels?.[key] === value);
    if (matches && sample.value !== undefined) total += Number(sample.value);
  }
  return total;
}
