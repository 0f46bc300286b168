import type { CircuitState } from '../resilience/index.ts';
import type { UpstreamOptions } from '../upstream/options.ts';
import type { HttpMethod } from './idempotency.ts';
import type { QueryParams } from './prepare-request.ts';
import type { HttpResponse, StreamedResponse } from './response.ts';

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
  /**
   * Sent as JSON; a `URLSearchParams` is sent form-encoded (as Stripe's API takes its parameters).
   * A `node:stream` `Readable` is sent as it arrives, never held whole: give its `content-type`
   * (and its `content-length`, when known; else it goes chunked) in `headers`. A stream can be
   * read once, so its call is never retried nor hedged, whatever its method or idempotency key;
   * when the call fails or its signal fires, the stream is destroyed, so whatever feeds it stops.
   */
  body?: unknown;
  headers?: Readonly<Record<string, string>>;
  /** Makes a POST or PATCH repeatable: sent as `Idempotency-Key`, and the call may be retried. */
  idempotencyKey?: string;
  /** The caller's signal (its deadline, its disconnect): the call stops when it fires. */
  signal: AbortSignal;
  /** Sent as `x-request-id`, so the upstream's log lines join the caller's. */
  requestId?: string;
  /** Races a second copy against a slow first one; only for reads (GET, HEAD, OPTIONS), never for `stream()` nor a streamed body. */
  hedge?: boolean | { delayMs: number };
  /** This call's own cap, instead of the client's `timeoutMs`. */
  timeoutMs?: number;
}

export interface StreamOptions {
  /**
   * Statuses besides 2xx that are answers to hand on with their body rather than errors: a
   * 304 or a 416 for a cached or ranged image.
   */
  acceptStatuses?: readonly number[];
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
   * Sends one call, JSON in (or a streamed body), JSON out, read whole up to `maxResponseBytes`.
   * Resolves with a 2xx; rejects with a KitError otherwise.
   */
  request<T = unknown>(request: HttpRequest): Promise<HttpResponse<T>>;
  /**
   * Sends one call and resolves as soon as the answer's headers arrive, its body unread, for the
   * caller to pipe (see `StreamedResponse`): a 2xx, or a status in `acceptStatuses`. Any other
   * status rejects with the KitError `request()` gives. The attempt is counted when the headers
   * arrive (a 5xx against the instance, an accepted answer as a success). Retries (for a
   * repeatable request, as `request()`) cover getting the headers, never the body; it is not
   * hedged, `maxResponseBytes` does not apply, and `accept` is `*\/*` unless `headers` say
   * otherwise. The call's deadline covers the body too: its timer and its hold on the caller's
   * signal last until the body ends or is destroyed.
   *
   * @example
   * const image = await media.stream({ method: 'GET', path: `/v1/images/${id}`, signal, headers: { accept: 'image/*' } }, { acceptStatuses: [304, 416] });
   * await pipeline(image.body, destination);
   */
  stream(request: HttpRequest, options?: StreamOptions): Promise<StreamedResponse>;
  stats(): HttpClientStats;
  /** Stops discovery and closes every pool once the calls in flight are over. */
  close(): Promise<void>;
}
