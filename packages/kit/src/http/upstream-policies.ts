import type { KitError } from '../errors/index.ts';
import {
  type Bulkhead, type CircuitBreakerOptions, type CircuitState, type Clock, type Policy, type RetryBudget,
  createBulkhead, createRetry, createRetryBudget, isRetryable,
} from '../resilience/index.ts';
import { ATTR_BATON_ERROR_CODE, ATTR_BATON_UPSTREAM } from '../telemetry/tracing/attributes.ts';
import { recordCallEvent } from './attempt-span.ts';
import { createPowerOfTwoChoices } from './balancer.ts';
import { logBreakerChange } from './breaker-log.ts';
import { discoveryFrom } from './discovery-from.ts';
import { createEndpointSet, type BalancedEndpoint, type EndpointSet } from './endpoint-set.ts';
import type { HttpClientEvent, HttpClientLogger } from './events.ts';
import type { HttpClientOptions } from './http-client-types.ts';
import { createOutlierDetector, type OutlierDetector } from './outlier-detection.ts';

/** What every endpoint of an upstream is made with, whatever its protocol. */
export interface EndpointBasics {
  breaker: Omit<CircuitBreakerOptions, 'clock' | 'onStateChange'>;
  clock: Clock;
  onBreakerStateChange(instance: string, from: CircuitState, to: CircuitState): void;
}

export interface UpstreamPoliciesOptions<Endpoint extends BalancedEndpoint> extends Pick<HttpClientOptions,
  'name' | 'urls' | 'discovery' | 'dns' | 'retry' | 'retryBudget' | 'breaker' | 'bulkhead' | 'outlierDetection' | 'balancer'> {
  clock: Clock;
  logger: HttpClientLogger | undefined;
  onEvent: ((event: HttpClientEvent) => void) | undefined;
  /** Makes one instance's endpoint (an undici pool, an HTTP/2 session) from the shared basics. */
  createEndpoint(instance: string, basics: EndpointBasics): Endpoint;
}

export interface UpstreamPolicies<Endpoint extends BalancedEndpoint> {
  outliers: OutlierDetector;
  budget: RetryBudget;
  endpoints: EndpointSet<Endpoint>;
  /** A breaker's refusals: tried on the other instances at once, never retried later. */
  refusals: WeakSet<KitError>;
  bulkhead: Bulkhead;
  retry: Policy;
  /** Retries sent so far. */
  retries(): number;
}

/**
 * The policies an outbound client keeps per upstream, the same for HTTP and gRPC: discovery
 * and one endpoint (with its breaker) per instance, outlier ejection, the retry budget, the
 * bulkhead and the retry policy, with their events reported once, as metrics' events, log lines
 * (every breaker state change among them) and span events. The clients differ only in how one
 * attempt goes on the wire.
 *
 * @example
 * const policies = createUpstreamPolicies({ ...options, clock, logger, onEvent, createEndpoint: (instance, basics) => createEndpoint(instance, { ...basics, connections }) });
 */
export function createUpstreamPolicies<Endpoint extends BalancedEndpoint>(options: UpstreamPoliciesOptions<Endpoint>): UpstreamPolicies<Endpoint> {
  const { name, clock, logger, onEvent } = options;
  const { shouldRetry = isRetryable, ...retryOptions } = options.retry ?? {};
  const outliers = createOutlierDetector({ ...options.outlierDetection, clock });
  const budget = createRetryBudget({ ...options.retryBudget, clock });
  const basics: EndpointBasics = {
    breaker: options.breaker ?? {},
    clock,
    onBreakerStateChange(instance, from, to) {
      logBreakerChange(logger, name, instance, from, to);
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
    balancer: options.balancer ?? createPowerOfTwoChoices(),
    createEndpoint: (instance) => options.createEndpoint(instance, basics),
    onChange: (instances) => onEvent?.({ type: 'discovery', upstream: name, instances }),
  });

  // A breaker's refusal is this client's own decision, made without touching the network; it is
  // tried on the other instances at once, and retrying it later would only wait for nothing.
  const refusals = new WeakSet<KitError>();
  let retries = 0;
  const { maxConcurrent = 64, maxQueue = 32 } = options.bulkhead ?? {};
  const bulkhead = createBulkhead({ maxConcurrent, maxQueue, onReject: () => onEvent?.({ type: 'bulkhead_reject', upstream: name }) });
  const retry = createRetry({
    ...retryOptions,
    budget,
    clock,
    shouldRetry: (error, attempt) => !refusals.has(error) && shouldRetry(error, attempt),
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
  return { outliers, budget, endpoints, refusals, bulkhead, retry, retries: () => retries };
}
