import type { Tracer } from '@opentelemetry/api';
import type { ServiceTokenSource } from '../auth/service-identity/minter.ts';
import type { KitError } from '../errors/index.ts';
import type { BulkheadOptions, CircuitBreakerOptions, Clock, RetryBudgetOptions } from '../resilience/index.ts';
import type { Balancer } from './balancer.ts';
import type { DnsDiscoveryOptions } from './dns-discovery.ts';
import type { Discovery } from './discovery.ts';
import type { HealthCheckOptions } from './health-checks.ts';
import type { HttpClientEvent, HttpClientLogger } from './events.ts';
import type { OutlierDetectionOptions } from './outlier-detection.ts';

export interface UpstreamRetryOptions {
  /** Tries that reach the upstream, in all, the first included (tries that never reached it are free). */
  maxAttempts?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  /**
   * Which errors are worth another try, instead of the failure table's answer. Either way a call
   * that is not repeatable (not idempotent, no key) is tried again only when the upstream never
   * got it.
   */
  shouldRetry?: (error: KitError, attempt: number) => boolean;
  /**
   * How long tries that surely never reached the upstream (a refused connection: an instance
   * restarting) go on before the call is unavailable (5 s); never past the caller's deadline.
   */
  unsentWindowMs?: number;
  /** In [0, 1); injected by tests to pin the jitter. */
  random?: () => number;
}

/** What a client of an upstream is configured with, whatever its protocol. */
export interface UpstreamOptions {
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
  connectTimeoutMs?: number;
  /** A response longer than this is refused (`internal` / `bad_response`). */
  maxResponseBytes?: number;
  retry?: UpstreamRetryOptions;
  /** The client's one retry budget, shared by its retries and its hedges. */
  retryBudget?: Omit<RetryBudgetOptions, 'clock'>;
  /**
   * The options of each instance's circuit breaker. `downProbeIntervalMs` (100) is how soon an
   * instance whose connections were refused is tried again: a refused connection costs it nothing.
   */
  breaker?: Omit<CircuitBreakerOptions, 'clock' | 'onStateChange' | 'isFailure' | 'isNeutral' | 'openDurationAfter'> & { downProbeIntervalMs?: number };
  /** The cap on this upstream's calls in flight (64), and its short queue (32). */
  bulkhead?: Omit<BulkheadOptions, 'onReject'>;
  outlierDetection?: Omit<OutlierDetectionOptions, 'clock'>;
  /**
   * Active health checks of each instance, when there are several (`/readyz` over HTTP, gRPC
   * health's Check): on by default for a Baton upstream, never for one `outside`; false: off.
   */
  healthCheck?: HealthCheckOptions | false;
  /** Power of two choices by default. */
  balancer?: Balancer;
  clock?: Clock;
  logger?: HttpClientLogger;
  onEvent?: (event: HttpClientEvent) => void;
  /** Makes a CLIENT span per attempt and sends `traceparent` on; without it, calls are not traced. */
  tracer?: Tracer;
  /**
   * This service's tokens: every attempt carries one for `audience` in `baton-service-token`
   * (a service's context sets it on every client it makes).
   */
  identity?: ServiceTokenSource;
  /**
   * An upstream that is not a Baton service (a payment provider on the internet): it is sent
   * none of Baton's own headers, no service token (a service's context gives such a client
   * none) and no `x-baton-timeout-ms`; the deadline, retries and breaker still hold on this side.
   */
  outside?: boolean;
  /** The service called, whom the token is for: `name` by default (`users-feed` says `users`). */
  audience?: string;
}
