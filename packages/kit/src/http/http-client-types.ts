import type { Tracer } from '@opentelemetry/api';
import type { KitError } from '../errors/index.ts';
import type { BulkheadOptions, CircuitBreakerOptions, CircuitState, Clock, RetryBudgetOptions } from '../resilience/index.ts';
import type { Balancer } from '../upstream/balancer.ts';
import type { DnsDiscoveryOptions } from '../upstream/dns-discovery.ts';
import type { Discovery } from '../upstream/discovery.ts';
import type { HttpClientEvent, HttpClientLogger } from '../upstream/events.ts';
import type { HttpMethod } from './idempotency.ts';
import type { OutlierDetectionOptions } from '../upstream/outlier-detection.ts';
import type { QueryParams } from './prepare-request.ts';
import type { HttpResponse } from './response.ts';

export interface HttpRetryOptions {
  /** Tries in all, the first included. */
  maxAttempts?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Which errors are worth another try; `isRetryable` by default. Only repeatable requests are ever retried. */
  shouldRetry?: (error: KitError, attempt: number) => boolean;
  /** In [0, 1); injected by tests to pin the jitter. */
  random?: () => number;
}

export interface HedgingOptions {
  /** A fixed delay before the second copy; by default the upstream's observed latency quantile. */
  delayMs?: number;
  /** Which quantile of recent latencies the default delay is. */
  quantile?: number;
  /** Never hedge sooner than this, however fast the upstream has been. */
  minDelayMs?: number;
}

export interface HttpClientOptions {
  /** The upstream's name (`catalog`): in every event and log line, never in a caller's message. */
  name: string;
  /** `<SERVICE>_URLS`: instance URLs (a list, or comma-separated), or `dns:<host>:<port>`. */
  urls?: string | readonly string[];
  /** A discovery of your own instead of `urls`; the client follows it but does not close it. */
  discovery?: Discovery;
  /** For `dns:` urls: refresh period and resolver. */
  dns?: Omit<DnsDiscoveryOptions, 'onError'>;
  /** The budget of a call whose caller's signal allows longer (or carries no deadline). */
  timeoutMs?: number;
  /** The most sockets kept to one instance. */
  connectionsPerInstance?: number;
  connectTimeoutMs?: number;
  /** How long an idle socket is kept; below the server's own keep-alive timeout (Node: 5 s). */
  keepAliveTimeoutMs?: number;
  /** A 2xx body longer than this is refused (`internal` / `bad_response`) and its socket closed. */
  maxResponseBytes?: number;
  retry?: HttpRetryOptions;
  /** The client's one retry budget, shared by its retries and its hedges. */
  retryBudget?: Omit<RetryBudgetOptions, 'clock'>;
  /** The options of each instance's circuit breaker. */
  breaker?: Omit<CircuitBreakerOptions, 'clock' | 'onStateChange'>;
  /** The cap on this upstream's calls in flight (64), and its short queue (32). */
  bulkhead?: Omit<BulkheadOptions, 'onReject'>;
  outlierDetection?: Omit<OutlierDetectionOptions, 'clock'>;
  hedging?: HedgingOptions;
  /** Power of two choices by default. */
  balancer?: Balancer;
  clock?: Clock;
  logger?: HttpClientLogger;
  onEvent?: (event: HttpClientEvent) => void;
  /** Makes a CLIENT span per attempt and sends `traceparent` on; without it, calls are not traced. */
  tracer?: Tracer;
}

export interface HttpRequest {
  method: HttpMethod;
  /** Starts with `/`; the query goes in `query`. */
  path: string;
  query?: QueryParams;
  /** Sent as JSON. */
  body?: unknown;
  headers?: Readonly<Record<string, string>>;
  /** Makes a POST or PATCH repeatable: sent as `Idempotency-Key`, and the call may be retried. */
  idempotencyKey?: string;
  /** The caller's signal (its deadline, its disconnect): the call stops when it fires. */
  signal: AbortSignal;
  /** Sent as `x-request-id`, so the upstream's log lines join the caller's. */
  requestId?: string;
  /** Races a second copy against a slow first one; only for reads (GET, HEAD, OPTIONS). */
  hedge?: boolean | { delayMs: number };
  /** This call's own cap, instead of the client's `timeoutMs`. */
  timeoutMs?: number;
}

export interface InstanceStats {
  instance: string;
  outstanding: number;
  ewmaLatencyMs: number;
  breaker: CircuitState;
  ejected: boolean;
  /** Sockets open to the instance, and of those, idle ones. */
  connections: number;
  idleConnections: number;
}

export interface HttpClientStats {
  upstream: string;
  retries: number;
  hedges: number;
  /** Retries the client's budget allows now. */
  retryBudgetAvailable: number;
  instances: InstanceStats[];
}

export interface HttpClient {
  readonly name: string;
  /**
   * Sends one call, JSON in, JSON out. Resolves with a 2xx; rejects with a KitError otherwise.
   */
  request<T = unknown>(request: HttpRequest): Promise<HttpResponse<T>>;
  stats(): HttpClientStats;
  /** Stops discovery and closes every pool once the calls in flight are over. */
  close(): Promise<void>;
}
