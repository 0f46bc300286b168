import type { KitError } from '../errors/index.ts';
import {
  type Bulkhead, type CircuitBreakerOptions, type CircuitState, type Clock, type Policy, type RetryBudget,
  createBulkhead, createRetry, createRetryBudget,
} from '../resilience/index.ts';
import { ATTR_BATON_ERROR_CODE, ATTR_BATON_UPSTREAM } from '../telemetry/tracing/attributes.ts';
import { createPowerOfTwoChoices } from './balancer.ts';
import { createBreakerLog } from './breaker-log.ts';
import { recordCallEvent } from './call-events.ts';
import { discoveryFrom } from './discovery-from.ts';
import { createEndpointSet, type EndpointSet } from './endpoint-set.ts';
import type { HttpClientEvent, HttpClientLogger } from './events.ts';
import { startHealthChecks, type Probe } from './health-checks.ts';
import { countsAgainstInstance, failureKindOf, isWorthRetrying, neverReachedUpstream, saysInstanceDown, saysInstanceDraining, saysNothingOfInstance } from './failures.ts';
import { createInstanceAttempts, type InstanceAttempts, type UpstreamEndpoint } from './instance-attempts.ts';
import { createLatencyTracker, type LatencyTracker } from './latency-tracker.ts';
import type { UpstreamOptions } from './options.ts';
import { createOutlierDetector, type OutlierDetector } from './outlier-detection.ts';
import { policyDefaults } from '../resilience/defaults.ts';

/** What every endpoint of an upstream is made with, whatever its protocol. */
export interface EndpointBasics {
  breaker: Omit<CircuitBreakerOptions, 'clock' | 'onStateChange'>;
  clock: Clock;
  onBreakerStateChange(instance: string, from: CircuitState, to: CircuitState): void;
}

export interface UpstreamPoliciesOptions<Endpoint extends UpstreamEndpoint> extends Omit<UpstreamOptions, 'clock' | 'logger' | 'onEvent'> {
  clock: Clock;
  logger: HttpClientLogger | undefined;
  onEvent: ((event: HttpClientEvent) => void) | undefined;
  /** Makes one instance's endpoint (an undici pool, an HTTP/2 session) from the shared basics. */
  createEndpoint(instance: string, basics: EndpointBasics): Endpoint;
  /** The HTTP status of a successful attempt's result, for its event. */
  statusOf?: (result: unknown) => number | undefined;
  /** How an instance is asked whether it serves, over its own connection (active health checks). */
  probe?: Probe<Endpoint>;
}

export interface UpstreamPolicies<Endpoint extends UpstreamEndpoint> {
  outliers: OutlierDetector;
  budget: RetryBudget;
  endpoints: EndpointSet<Endpoint>;
  /** Sends one attempt to a chosen instance through its breaker, and learns from how it ended. */
  attempts: InstanceAttempts<Endpoint>;
  /** The upstream's recent latencies, for a hedge's delay. */
  latency: LatencyTracker;
  bulkhead: Bulkhead;
  /** Retries for a repeatable call (idempotent, or carrying a key), by the failure table. */
  retry: Policy;
  /** Retries for any other call: only when the upstream never got it. */
  retryUnsent: Policy;
  /** Whether a failed attempt is worth another, for a call of this kind (a hedge asks too). */
  shouldRetry(error: KitError, attempt: number, repeatable: boolean): boolean;
  /** Retries sent so far. */
  retries(): number;
  /** Stops what runs on its own (the health checks); the client then closes `endpoints`. */
  stop(): void;
  /** What each instance looks like now, with what the transport adds (its connections). */
  instanceStats<X extends object>(extra: (endpoint: Endpoint) => X): Array<InstanceBasics & X>;
}

/** What every client reports of an instance, whatever carries its calls. */
export interface InstanceBasics {
  instance: string;
  outstanding: number;
  ewmaLatencyMs: number;
  breaker: CircuitState;
  ejected: boolean;
}

/**
 * The one place that knows an upstream, for HTTP and gRPC alike: discovery and one endpoint
 * (with its breaker) per instance, the instance's choice, outlier ejection, the retry budget,
 * the bulkhead and the retries, each judging a failure by the one failure table
 * (`failures.ts`), with their events reported once, as metrics' events, log lines (every
 * breaker state change among them) and span events. The clients differ only in how one
 * attempt goes on the wire.
 *
 * @example
 * const upstream = createUpstreamPolicies({ ...options, clock, logger, onEvent, createEndpoint: (instance, basics) => createEndpoint(instance, { ...basics, connections }) });
 */
export function createUpstreamPolicies<Endpoint extends UpstreamEndpoint>(options: UpstreamPoliciesOptions<Endpoint>): UpstreamPolicies<Endpoint> {
  const { name, clock, logger, onEvent } = options;
  const { shouldRetry: ownShouldRetry, ...retryOptions } = options.retry ?? {};
  const { downProbeIntervalMs = policyDefaults.breaker.downProbeIntervalMs, ...breakerOptions } = options.breaker ?? {};
  const outliers = createOutlierDetector({ ...options.outlierDetection, clock });
  const budget = createRetryBudget({ ...options.retryBudget, clock });
  const logBreakerChange = createBreakerLog(logger, name);
  const basics: EndpointBasics = {
    breaker: {
      ...breakerOptions,
      // The table decides: a business error is a healthy instance's answer, and a draining
      // instance's refusal says nothing of it either way (it must not close a half-open circuit).
      isFailure: countsAgainstInstance,
      isNeutral: saysNothingOfInstance,
      // Nobody listening: probe again as soon as a connection could succeed, not after seconds
      // of refusing calls to an instance that is back. An instance that answered 503 with
      // Retry-After is up and said when to ask again (its database is down, say): probe then,
      // never later than `openDurationMs`, so a dependency that comes back is seen at once.
      openDurationAfter: (error) => {
        if (saysInstanceDown(error)) return downProbeIntervalMs;
        if (failureKindOf(error) === 'answered_unavailable' && error.retryAfterSeconds !== undefined) {
          // Never less than a down instance's probe interval: `Retry-After: 0` does not unpace it.
          return Math.max(downProbeIntervalMs, Math.min(error.retryAfterSeconds * 1_000, breakerOptions.openDurationMs ?? policyDefaults.breaker.openDurationMs));
        }
        return undefined;
      },
    },
    clock,
    onBreakerStateChange(instance, from, to) {
      logBreakerChange(instance, from, to);
      onEvent?.({ type: 'breaker_state', upstream: name, instance, from, to });
    },
  };
  const endpoints = createEndpointSet({
    discovery: options.discovery ?? discoveryFrom(options.urls ?? [], {
      ...options.dns,
      onError(error) {
        logger?.warn({ err: error, upstream: name }, 'service discovery failed; keeping the last good list');
        onEvent?.({ type: 'discovery_error', upstream: name, error });
      },
    }),
    ownsDiscovery: options.discovery === undefined,
    outliers,
    balancer: options.balancer ?? createPowerOfTwoChoices({ clock }),
    clock,
    createEndpoint: (instance) => options.createEndpoint(instance, basics),
    onChange: (instances) => onEvent?.({ type: 'discovery', upstream: name, instances }),
  });
  // A Baton upstream answers `/readyz` and gRPC health; one outside Baton is not asked.
  const healthChecks = options.probe === undefined || options.healthCheck === false || options.outside === true
    ? undefined
    : startHealthChecks(endpoints, options.probe, { ...options.healthCheck, upstream: name, logger, onEvent });
  const latency = createLatencyTracker();
  const { identity, audience = name } = options;
  const attempts = createInstanceAttempts({
    upstream: name, endpoints, outliers, latency, clock, logger, onEvent, statusOf: options.statusOf,
    // An upstream outside Baton is never sent this service's token, whatever it was given.
    credential: identity === undefined || options.outside === true ? undefined : () => identity.tokenFor(audience),
    credentialRefused: identity === undefined ? undefined : () => identity.forget?.(audience),
  });

  function shouldRetry(error: KitError, attempt: number, repeatable: boolean): boolean {
    if (ownShouldRetry === undefined) return isWorthRetrying(error, repeatable);
    return (repeatable || neverReachedUpstream(error)) && ownShouldRetry(error, attempt);
  }

  let retries = 0;
  const bulkhead = createBulkhead({ ...options.bulkhead, onReject: () => onEvent?.({ type: 'bulkhead_reject', upstream: name }) });
  const retryFor = (repeatable: boolean) => createRetry({
    ...retryOptions,
    budget,
    clock,
    shouldRetry: (error, attempt) => shouldRetry(error, attempt, repeatable),
    isUnsent: neverReachedUpstream,
    // An instance leaving: the next try goes to another (or waits for it back) now; its
    // Retry-After is for callers that have nowhere else to go.
    retryAfterFloorMs: (error) => (saysInstanceDraining(error) || error.retryAfterSeconds === undefined ? undefined : error.retryAfterSeconds * 1_000),
    onRetry({ error, attempt, delayMs }) {
      retries++;
      recordCallEvent('baton.retry', { [ATTR_BATON_UPSTREAM]: name, attempt, delay_ms: Math.round(delayMs), [ATTR_BATON_ERROR_CODE]: error.code });
      onEvent?.({ type: 'retry', upstream: name, attempt, delayMs, code: error.code });
    },
    onGiveUp({ error, attempt, reason }) {
      recordCallEvent('baton.give_up', { [ATTR_BATON_UPSTREAM]: name, attempt, reason, [ATTR_BATON_ERROR_CODE]: error.code });
      onEvent?.({ type: 'give_up', upstream: name, attempt, reason, code: error.code });
    },
  });
  return {
    outliers, budget, endpoints, attempts, latency, bulkhead, shouldRetry,
    retry: retryFor(true),
    retryUnsent: retryFor(false),
    retries: () => retries,
    stop: () => healthChecks?.stop(),
    instanceStats: (extra) => [...endpoints.all()].map((endpoint) => ({
      instance: endpoint.instance,
      outstanding: endpoint.outstanding,
      ewmaLatencyMs: endpoint.ewmaLatencyMs,
      breaker: endpoint.breaker.state,
      ejected: outliers.isEjected(endpoint.instance),
      ...extra(endpoint),
    })),
  };
}
