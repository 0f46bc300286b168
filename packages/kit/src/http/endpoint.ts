import { Pool } from 'undici';
import { type CircuitBreaker, type CircuitBreakerOptions, type CircuitState, type Clock, createCircuitBreaker } from '../resilience/index.ts';
import type { UpstreamEndpoint } from '../upstream/instance-attempts.ts';

/** One instance of an upstream: its connection pool, its breaker and what the balancer reads. */
export interface Endpoint extends UpstreamEndpoint {
  /** The instance's origin, `http://10.0.3.7:8080`. */
  readonly instance: string;
  /** The pool new attempts use; replaced by a fresh one when the instance says it is leaving. */
  pool: Pool;
  readonly breaker: CircuitBreaker;
  outstanding: number;
  ewmaLatencyMs: number;
}

export interface EndpointOptions {
  connections: number;
  connectTimeoutMs: number;
  keepAliveTimeoutMs: number;
  breaker: Omit<CircuitBreakerOptions, 'clock' | 'onStateChange'>;
  clock: Clock;
  onBreakerStateChange(instance: string, from: CircuitState, to: CircuitState): void;
}

/**
 * An instance with its own keep-alive pool (at most `connections` sockets, reused call after
 * call, never one client per request) and its own circuit breaker, so one bad instance opens
 * only its own circuit while its peers keep serving.
 *
 * @example
 * const endpoint = createEndpoint('http://10.0.3.7:8080', options);
 */
export function createEndpoint(instance: string, { connections, connectTimeoutMs, keepAliveTimeoutMs, breaker, clock, onBreakerStateChange }: EndpointOptions): Endpoint {
  const createPool = () => new Pool(instance, {
    connections,
    // One request per connection at a time: with pipelining, a slow answer would hold up
    // the ones queued behind it on the same socket.
    pipelining: 1,
    keepAliveTimeout: keepAliveTimeoutMs,
    connect: { timeout: connectTimeoutMs },
  });
  const retired = new Set<Promise<void>>();
  const endpoint: Endpoint = {
    instance,
    pool: createPool(),
    close: async () => {
      await Promise.all([endpoint.pool.close(), ...retired]);
    },
    // A closing instance closes the keep-alive connections it holds once its listener is shut,
    // and a request sent on one at that moment meets a reset that cannot tell whether it was
    // read (a POST without a key is then lost as a 503, seen in the rolling-restart test). So
    // the pooled connections retire as soon as the instance says it is leaving (their calls in
    // flight finish): later attempts open new ones, which the instance either refuses with
    // `shutting_down` or, its listener closed, never accepts: both safe to try again.
    leaving() {
      const old = endpoint.pool;
      endpoint.pool = createPool();
      const closing: Promise<void> = old.close().catch(() => undefined).finally(() => retired.delete(closing));
      retired.add(closing);
    },
    breaker: createCircuitBreaker({ ...breaker, clock, onStateChange: (from, to) => onBreakerStateChange(instance, from, to) }),
    outstanding: 0,
    ewmaLatencyMs: 0,
  };
  return endpoint;
}
