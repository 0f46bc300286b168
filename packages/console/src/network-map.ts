/**
 * The shop's call graph with live figures, from two readings of every service's metrics a second
 * apart (prom-client's JSON: `/admin/metrics.json`). An edge is a caller's kit client for one
 * upstream (HTTP or gRPC alike), or a consumer's deliveries of another service's events. Pure:
 * the poller feeds it readings, the tests feed it made-up ones.
 */
export interface MetricValue {
  value: number;
  labels: Record<string, string | number>;
  metricName?: string;
}

export interface MetricFamily {
  name: string;
  type: string;
  values: MetricValue[];
}

/** One service's metrics at one moment. */
export interface Reading {
  atMs: number;
  families: MetricFamily[];
}

export type BreakerState = 'closed' | 'half-open' | 'open';

export interface Edge {
  from: string;
  to: string;
  /** `call`: a kit client's calls; `feed`: a consumer's reads of a publisher's event feed (the no-broker transport); `event`: the events it handled. */
  via: 'call' | 'feed' | 'event';
  /** Attempts (a call, a feed read) or deliveries (events) a second. */
  perSecond: number;
  /** Of those, the ones that failed, a second. */
  errorsPerSecond: number;
  /** The slowest 1% of attempts took at least this, over the last reading's second; undefined with none, and for a feed (its reads are long polls). */
  p99Ms: number | undefined;
  retriesPerSecond: number;
  giveUpsPerSecond: number;
  hedgesPerSecond: number;
  /** Calls the client's bulkhead refused at once, a second. */
  refusedPerSecond: number;
  inFlight: number | undefined;
  /** Retry tokens left in the client's budget; undefined when it has none. */
  retryBudget: number | undefined;
  /** The worst of the breakers on the upstream's instances. */
  breaker: BreakerState;
  instances: Array<{ instance: string; breaker: BreakerState }>;
  /** Events only: how long after its creation the slowest 1% of the last second's events were handled, in seconds. */
  lagSeconds: number | undefined;
}

export interface NodeFigures {
  name: string;
  requestsPerSecond: number;
  /** Answers of 500 and above, a second. */
  errorsPerSecond: number;
  p99Ms: number | undefined;
  /** Requests load shedding refused, a second. */
  shedPerSecond: number;
  outboxPending: number | undefined;
  outboxOldestSeconds: number | undefined;
  deadLetters: number | undefined;
}

const breakerStates: BreakerState[] = ['closed', 'half-open', 'open'];
// Whose events a type is: its first word (`order.created` → orders).
const publisherOf: Record<string, string> = { order: 'orders', payment: 'payment', user: 'users', media: 'media' };

function family(reading: Reading | undefined, name: string): MetricFamily | undefined {
  return reading?.families.find((f) => f.name === name);
}

function total(reading: Reading | undefined, name: string, where: (labels: MetricValue['labels']) => boolean = () => true, metricName?: string): number {
  let sum = 0;
  for (const value of family(reading, name)?.values ?? []) {
    if ((metricName === undefined || value.metricName === metricName) && where(value.labels)) sum += value.value;
  }
  return sum;
}

function labelValues(reading: Reading | undefined, name: string, label: string): string[] {
  return [...new Set((family(reading, name)?.values ?? []).map((v) => v.labels[label]).filter((v) => v !== undefined).map(String))];
}

/** A counter's increase a second between two readings; a restart (the counter went down) counts from zero. */
function rate(before: Reading | undefined, after: Reading, name: string, where?: (labels: MetricValue['labels']) => boolean): number {
  if (before === undefined) return 0;
  const seconds = (after.atMs - before.atMs) / 1_000;
  if (seconds <= 0) return 0;
  const now = total(after, name, where);
  const then = total(before, name, where);
  return (now >= then ? now - then : now) / seconds;
}

/**
 * The 99th percentile of what a histogram saw between two readings, interpolated within its
 * bucket as Prometheus's `histogram_quantile` does; in ms.
 */
export function p99Between(before: Reading | undefined, after: Reading, name: string, where: (labels: MetricValue['labels']) => boolean): number | undefined {
  if (before === undefined) return undefined;
  const cumulative = (reading: Reading) => {
    const byBound = new Map<number, number>();
    for (const value of family(reading, name)?.values ?? []) {
      if (value.metricName !== `${name}_bucket` || !where(value.labels)) continue;
      const bound = value.labels.le === '+Inf' ? Number.POSITIVE_INFINITY : Number(value.labels.le);
      byBound.set(bound, (byBound.get(bound) ?? 0) + value.value);
    }
    return byBound;
  };
  const now = cumulative(after);
  // A restart (the count went down) counts from zero, as `rate` does: the new process's alone.
  const previous = cumulative(before);
  const then = (now.get(Number.POSITIVE_INFINITY) ?? 0) < (previous.get(Number.POSITIVE_INFINITY) ?? 0) ? new Map<number, number>() : previous;
  const bounds = [...now.keys()].sort((a, b) => a - b);
  const counts = bounds.map((bound) => Math.max(0, (now.get(bound) ?? 0) - (then.get(bound) ?? 0)));
  const count = counts.at(-1) ?? 0;
  if (count === 0) return undefined;
  const rank = 0.99 * count;
  for (let i = 0; i < bounds.length; i++) {
    if ((counts[i] ?? 0) < rank) continue;
    const upper = bounds[i] ?? 0;
    const lower = i === 0 ? 0 : bounds[i - 1] ?? 0;
    // Past the last finite bound nothing says how slow: the last bound is what can be said.
    if (!Number.isFinite(upper)) return lower * 1_000;
    const below = i === 0 ? 0 : counts[i - 1] ?? 0;
    const inBucket = (counts[i] ?? 0) - below;
    return (lower + (upper - lower) * (inBucket === 0 ? 1 : (rank - below) / inBucket)) * 1_000;
  }
  return undefined;
}

/** The edges out of one service: its clients' upstreams and the events it consumes. */
export function edgesOf(service: string, before: Reading | undefined, after: Reading): Edge[] {
  const upstreams = new Set([
    ...labelValues(after, 'baton_client_attempts_total', 'upstream'),
    ...labelValues(after, 'baton_client_breaker_state', 'upstream'),
  ]);
  const calls = [...upstreams].map((upstream): Edge => {
    const of = (labels: MetricValue['labels']) => labels.upstream === upstream;
    const instances = (family(after, 'baton_client_breaker_state')?.values ?? []).filter((v) => of(v.labels))
      .map((v) => ({ instance: String(v.labels.instance), breaker: breakerStates[Math.round(v.value)] ?? 'closed' }));
    const budget = family(after, 'baton_client_retry_budget_available')?.values.find((v) => of(v.labels));
    const inFlight = family(after, 'baton_client_in_flight')?.values.find((v) => of(v.labels));
    // A feed's client is named for it (`orders-feed`): on the map it is an edge to the publisher.
    const feed = upstream.endsWith('-feed');
    return {
      from: service, to: feed ? upstream.slice(0, -'-feed'.length) : upstream, via: feed ? 'feed' : 'call',
      perSecond: rate(before, after, 'baton_client_attempts_total', of),
      errorsPerSecond: rate(before, after, 'baton_client_attempts_total', (l) => of(l) && l.outcome === 'error'),
      // A feed read is a long poll: its time is mostly the wait it asked for, not the publisher's
      // speed. The event edge's lag says how late events are.
      p99Ms: feed ? undefined : p99Between(before, after, 'baton_client_attempt_duration_seconds', of),
      retriesPerSecond: rate(before, after, 'baton_client_retries_total', of),
      giveUpsPerSecond: rate(before, after, 'baton_client_give_ups_total', of),
      hedgesPerSecond: rate(before, after, 'baton_client_hedges_total', of),
      refusedPerSecond: rate(before, after, 'baton_client_bulkhead_rejections_total', of),
      inFlight: inFlight?.value,
      retryBudget: budget?.value,
      breaker: instances.reduce<BreakerState>((worst, i) => (breakerStates.indexOf(i.breaker) > breakerStates.indexOf(worst) ? i.breaker : worst), 'closed'),
      instances,
      lagSeconds: undefined,
    };
  });
  const publishers = new Set(labelValues(after, 'baton_consumer_deliveries_total', 'type').map((type) => publisherOf[type.split('.')[0] ?? ''] ?? type.split('.')[0] ?? type));
  const events = [...publishers].map((publisher): Edge => {
    const of = (labels: MetricValue['labels']) => (publisherOf[String(labels.type).split('.')[0] ?? ''] ?? String(labels.type).split('.')[0]) === publisher;
    const lagMs = p99Between(before, after, 'baton_consumer_lag_seconds', of);
    return {
      from: service, to: publisher, via: 'event',
      perSecond: rate(before, after, 'baton_consumer_deliveries_total', of),
      errorsPerSecond: rate(before, after, 'baton_consumer_deliveries_total', (l) => of(l) && (l.outcome === 'retry' || l.outcome === 'dead')),
      p99Ms: undefined,
      retriesPerSecond: rate(before, after, 'baton_consumer_redeliveries_total', of),
      giveUpsPerSecond: 0, hedgesPerSecond: 0, refusedPerSecond: 0, inFlight: undefined, retryBudget: undefined,
      breaker: 'closed', instances: [],
      // The p99 of the lag over the last second's deliveries.
      lagSeconds: lagMs === undefined ? undefined : lagMs / 1_000,
    };
  });
  return [...calls, ...events];
}

// The publishers' event feed (the kit's `feedPath`), whose reads wait for events to come.
const feedRoute = '/events/v1/feed';

/** What one service's own figures say: requests, errors, p99 (the feed's held reads left out), shed load, its outbox and dead letters. */
export function nodeOf(service: string, before: Reading | undefined, after: Reading): NodeFigures {
  const gauge = (name: string) => (family(after, name) === undefined ? undefined : total(after, name));
  return {
    name: service,
    requestsPerSecond: rate(before, after, 'http_server_requests_total'),
    errorsPerSecond: rate(before, after, 'http_server_requests_total', (l) => Number(l.status_code) >= 500),
    // Without the feed's reads: held by design (a long poll), their time is the wait they asked for.
    p99Ms: p99Between(before, after, 'http_server_request_duration_seconds', (labels) => labels.route !== feedRoute),
    shedPerSecond: rate(before, after, 'baton_server_shed_requests_total'),
    outboxPending: gauge('baton_outbox_pending_events'),
    outboxOldestSeconds: family(after, 'baton_outbox_oldest_pending_age_seconds') === undefined ? undefined : Math.max(0, ...family(after, 'baton_outbox_oldest_pending_age_seconds')!.values.map((v) => v.value)),
    deadLetters: gauge('baton_consumer_dead_letters'),
  };
}
