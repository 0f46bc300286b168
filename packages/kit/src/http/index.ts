/**
 * The kit's HTTP client for calls between services: JSON read whole with `request()`, or a body
 * streamed either way (a `Readable` request body, `stream()` for an answer to pipe).
 *
 * @example
 * const catalog = createHttpClient({ name: 'catalog', urls: config.CATALOG_URLS });
 * const { body } = await catalog.request<Product>({ method: 'GET', path: '/v1/products/42', signal });
 * const image = await media.stream({ method: 'GET', path: '/v1/images/42', signal }, { acceptStatuses: [304] });
 * await pipeline(image.body, destination);
 */
export { createHttpClient } from './http-client.ts';
export type {
  HedgingOptions,
  HttpClient,
  HttpClientOptions,
  HttpClientStats,
  HttpRequest,
  InstanceStats,
  StreamOptions,
} from './http-client-types.ts';
export type { HttpResponse, ResponseHeaders, StreamedResponse } from './response.ts';
export type { HttpClientEvent, HttpClientLogger } from '../upstream/events.ts';
export type { HttpMethod } from './idempotency.ts';
export { idempotentReplayedHeader } from './idempotency.ts';
export { UpstreamError } from '../upstream/upstream-error.ts';
// What `HttpClientOptions` (and `GrpcClientOptions`, which picks from it) takes: a discovery or a
// balancer of your own, DNS and outlier settings. They live in ../upstream/, which both clients share.
export type { Discovery } from '../upstream/discovery.ts';
export type { DnsDiscoveryOptions } from '../upstream/dns-discovery.ts';
export type { Balancer, BalancerCandidate } from '../upstream/balancer.ts';
export type { OutlierDetectionOptions } from '../upstream/outlier-detection.ts';
export type { HealthCheckOptions } from '../upstream/health-checks.ts';
export type { QueryParams, QueryValue } from './prepare-request.ts';
