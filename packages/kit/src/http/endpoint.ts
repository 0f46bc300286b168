import { Pool } from 'undici';
import { type CircuitBreaker, type CircuitBreakerOptions, type CircuitState, type Clock, createCircuitBreaker } from '../resilience/index.ts';
import type { UpstreamEndpoint } from '../upstream/instance-attempts.ts';

/** One instance of an upstream: its connection pool, its breaker and what the balancer reads. */
export interface Endpoint extends UpstreamEndpoint {
  /** The instance's origin, `http://10.0.3.7:8080`. */
  readonly instance: string;
  readonly pool: Pool;
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
  const pool = new Pool(instance, {
    connections,
    // One request per connection at a time: with pipelining, a slow answer would hold up
    // the ones queued behind it on the same socket.
    pipelining: 1,
    keepAliveTimeout: keepAliveTimeoutMs,
    connect: { timeout: connectTimeoutMs },
  });
  return {
    instance,
    pool,
    close: () => pool.close(),
    breaker: createCircuitBreaker({ ...breaker, clock, onStateChange: (from, to) => onBreakerStateChange(instance, from, to) }),
    outstanding: 0,
    ewmaLatencyMs: 0,
  };
}
