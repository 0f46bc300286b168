import type { CircuitState } from '../resilience/index.ts';
import type { UpstreamOptions } from '../upstream/options.ts';
import type { HttpMethod } from './idempotency.ts';
import type { QueryParams } from './prepare-request.ts';
import type { HttpResponse } from './response.ts';

export interface HedgingOptions {
  /** A fixed delay before the second copy; by default the upstream's observed latency quantile. */
  delayMs?: number;
  /** Which quantile of recent latencies the default delay is. */
  quantile?: number;
  /** Never hedge sooner than this, however fast the upstream has been. */
  minDelayMs?: number;
}

/** What the HTTP client adds to what every client of an upstream is configured with. */
export interface HttpClientOptions extends UpstreamOptions {
  /** The most sockets kept to one instance. */
  connectionsPerInstance?: number;
  /** How long an idle socket is kept; below the server's own keep-alive timeout (Node: 5 s). */
  keepAliveTimeoutMs?: number;
  hedging?: HedgingOptions;
}

export interface HttpRequest {
  method: HttpMethod;
  /** Starts with `/`; the query goes in `query`. */
  path: string;
  query?: QueryParams;
  /** Sent as JSON; a `URLSearchParams` is sent form-encoded (as Stripe's API takes its parameters). */
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
