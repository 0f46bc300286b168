/**
 * The kit's HTTP client for calls between services, and what a server needs to answer it well.
 *
 * @example
 * const catalog = createHttpClient({ name: 'catalog', urls: config.CATALOG_URLS });
 * const { body } = await catalog.request<Product>({ method: 'GET', path: '/v1/products/42', signal });
 */
export { createHttpClient } from './http-client.ts';
export type {
  HedgingOptions,
  HttpClient,
  HttpClientOptions,
  HttpClientStats,
  HttpRequest,
  HttpRetryOptions,
  InstanceStats,
} from './http-client-types.ts';
export type { HttpResponse, ResponseHeaders } from './response.ts';
export type { HttpClientEvent, HttpClientEventType, HttpClientLogger } from './events.ts';
export { type HttpMethod, idempotencyKeyHeader, isRead, isRepeatable } from './idempotency.ts';
export { carriesNoRetry, noRetryHeader, shouldMarkNoRetry } from './no-retry.ts';
export { errorFromResponse, isProblemResponse, type ErrorResponse } from './response-error.ts';
export { errorFromTransport, type TransportFailure } from './transport-error.ts';
export { UpstreamError } from './upstream-error.ts';
export { parseRetryAfter } from './retry-after.ts';
export { type Discovery, createStaticDiscovery, originOf } from './discovery.ts';
export { type DnsDiscovery, type DnsDiscoveryOptions, createDnsDiscovery, parseDnsTarget } from './dns-discovery.ts';
export { discoveryFrom } from './discovery-from.ts';
export { type Balancer, type BalancerCandidate, type PowerOfTwoChoicesOptions, createPowerOfTwoChoices, createRoundRobin } from './balancer.ts';
export { type Ejection, type OutlierDetectionOptions, type OutlierDetector, createOutlierDetector } from './outlier-detection.ts';
export { type LatencyTracker, type LatencyTrackerOptions, createLatencyTracker } from './latency-tracker.ts';
export { type HedgeOptions, hedge } from './hedge.ts';
export { type QueryParams, type QueryValue, pathWithQuery } from './prepare-request.ts';
