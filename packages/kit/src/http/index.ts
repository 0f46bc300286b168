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
export type { HttpClientEvent, HttpClientEventType, HttpClientLogger } from '../upstream/events.ts';
export { type HttpMethod, idempotencyKeyHeader, isRead, isRepeatable } from './idempotency.ts';
export { carriesNoRetry, noRetryHeader, shouldMarkNoRetry } from '../upstream/no-retry.ts';
export { errorFromResponse, isProblemResponse, type ErrorResponse } from './response-error.ts';
export { errorFromTransport, type TransportFailure } from './transport-error.ts';
export { UpstreamError } from '../upstream/upstream-error.ts';
export { parseRetryAfter } from '../upstream/retry-after.ts';
export { type Discovery, createStaticDiscovery, originOf } from '../upstream/discovery.ts';
export { type DnsDiscovery, type DnsDiscoveryOptions, createDnsDiscovery, parseDnsTarget } from '../upstream/dns-discovery.ts';
export { discoveryFrom } from '../upstream/discovery-from.ts';
export { type Balancer, type BalancerCandidate, type PowerOfTwoChoicesOptions, createPowerOfTwoChoices, createRoundRobin } from '../upstream/balancer.ts';
export { type Ejection, type OutlierDetectionOptions, type OutlierDetector, createOutlierDetector } from '../upstream/outlier-detection.ts';
export { type LatencyTracker, type LatencyTrackerOptions, createLatencyTracker } from '../upstream/latency-tracker.ts';
export { type HedgeOptions, hedge } from '../upstream/hedge.ts';
export { type QueryParams, type QueryValue, pathWithQuery } from './prepare-request.ts';
