import { Http2SessionManager } from '@connectrpc/connect-node';
import type { BalancedEndpoint } from '../../upstream/endpoint-set.ts';
import { type CircuitBreakerOptions, type CircuitState, type Clock, createCircuitBreaker } from '../../resilience/index.ts';

/** One instance of a gRPC upstream: its HTTP/2 connection, its breaker, what the balancer reads. */
export interface GrpcEndpoint extends BalancedEndpoint {
  readonly session: Http2SessionManager;
  outstanding: number;
  ewmaLatencyMs: number;
  /** Called by the attempt when it ends, so a close waiting for the last one can go on. */
  settled(): void;
}

export interface GrpcEndpointOptions {
  connectTimeoutMs: number;
  /** PING an open connection this often, and drop it when a PING goes unanswered. */
  pingIntervalMs: number;
  idleConnectionTimeoutMs: number;
  breaker: Omit<CircuitBreakerOptions, 'clock' | 'onStateChange'>;
  clock: Clock;
  onBreakerStateChange(instance: string, from: CircuitState, to: CircuitState): void;
}

/**
 * An instance with one HTTP/2 connection (Connect's session manager: opened on first use, kept
 * alive with PINGs, reopened after a GOAWAY) carrying all of this client's concurrent calls as
 * streams, and its own circuit breaker, so one bad instance opens only its own circuit.
 *
 * @example
 * const endpoint = createGrpcEndpoint('http://10.0.3.7:9081', options);
 */
export function createGrpcEndpoint(instance: string, options: GrpcEndpointOptions): GrpcEndpoint {
  const { connectTimeoutMs, pingIntervalMs, idleConnectionTimeoutMs, breaker, clock, onBreakerStateChange } = options;
  const session = new Http2SessionManager(instance, { connectTimeoutMs, pingIntervalMs, idleConnectionTimeoutMs });
  let onIdle: (() => void) | undefined;
  const endpoint: GrpcEndpoint = {
    instance,
    session,
    breaker: createCircuitBreaker({ ...breaker, clock, onStateChange: (from, to) => onBreakerStateChange(instance, from, to) }),
    outstanding: 0,
    ewmaLatencyMs: 0,
    settled() {
      if (endpoint.outstanding === 0) onIdle?.();
    },
    async close() {
      // The calls on it finish first; the connection then goes (each attempt is bounded by its
      // deadline, so this wait is too).
      if (endpoint.outstanding > 0) await new Promise<void>((resolve) => { onIdle = resolve; });
      session.abort();
    },
  };
  return endpoint;
}
