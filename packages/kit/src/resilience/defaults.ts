/**
 * Every default of the kit's outbound policies, in one place: the primitives (retry, budget,
 * breaker, bulkhead) and the HTTP and gRPC clients read them from here, so a default is changed
 * once and never drifts between two files. docs/resilience.md shows them as a table, and
 * `test/docs-resilience.test.ts` checks that the table and this object agree.
 */
export const policyDefaults = {
  /** A call's own budget when the caller's signal allows longer (or carries no deadline). */
  timeoutMs: 5_000,
  connectTimeoutMs: 1_000,
  maxResponseBytes: 4 * 1024 * 1024,
  retry: {
    /** Tries that reach the upstream, the first included. */
    maxAttempts: 3,
    baseDelayMs: 50,
    maxDelayMs: 2_000,
    /** The longest wait before another try of a call the upstream never got. */
    unsentMaxDelayMs: 100,
    /** How long tries of a call the upstream never got go on (within the deadline). */
    unsentWindowMs: 5_000,
  },
  retryBudget: { ratio: 0.1, minRetriesPerSecond: 10, windowMs: 10_000 },
  breaker: {
    consecutiveFailures: 5,
    failureRateThreshold: 0.5,
    windowMs: 10_000,
    minimumRequests: 20,
    /** Open this long after slow answers or 5xx... */
    openDurationMs: 5_000,
    /** ...and this long after refused connections (nobody there: a probe costs nothing). */
    downProbeIntervalMs: 100,
    halfOpenMaxProbes: 1,
  },
  bulkhead: { maxConcurrent: 64, maxQueue: 32 },
  outlierDetection: { consecutiveFailures: 5, baseEjectionMs: 10_000, maxEjectionMs: 300_000, maxEjectionPercent: 50 },
  /** Each instance of an upstream with several is asked whether it serves this often (`upstream/health-checks.ts`). */
  healthCheck: { intervalMs: 1_000, timeoutMs: 1_000, unhealthyAfter: 2 },
  /** An instance's latency, unrefreshed by calls, fades over this time constant (so it is tried again). */
  balancer: { latencyDecayMs: 10_000 },
  hedging: { quantile: 0.95, minDelayMs: 10 },
  http: { connectionsPerInstance: 32, keepAliveTimeoutMs: 4_000 },
  grpc: { pingIntervalMs: 30_000, idleConnectionTimeoutMs: 60_000 },
  dnsRefreshMs: 5_000,
} as const;
