import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { droppedLogLines } from './log-sink.ts';

/** Bucket bounds in seconds: from a fast in-process answer to a request near its deadline. */
export const durationBucketsSeconds = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export interface HttpServerMetrics {
  requests: Counter<'method' | 'route' | 'status_code'>;
  duration: Histogram<'method' | 'route' | 'status_code'>;
  active: Gauge<'method'>;
}

export interface RpcServerMetrics {
  requests: Counter<'service' | 'method' | 'code'>;
  duration: Histogram<'service' | 'method' | 'code'>;
}

export interface ServerProtectionMetrics {
  shed: Counter<'route' | 'priority'>;
  concurrencyLimit: Gauge;
  deadlineExceeded: Counter<'hop'>;
}

export interface Metrics {
  registry: Registry;
  httpServer: HttpServerMetrics;
  /** Inbound gRPC calls, for a service that serves gRPC. */
  rpcServer: RpcServerMetrics;
  protection: ServerProtectionMetrics;
}

/**
 * One registry per service (never the global one, so tests can run several services in one
 * process), with Node's process and event-loop metrics and the inbound HTTP metrics.
 */
export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 20 });
  // prom-client names three gauges `_total`, a suffix Prometheus keeps for counters, and
  // `promtool check metrics` rejects them. The same numbers stay, by type, in the gauges without
  // the suffix (nodejs_active_handles, nodejs_active_requests, nodejs_active_resources).
  for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) registry.removeSingleMetric(name);
  let droppedSeen = 0;
  new Counter({
    name: 'baton_log_lines_dropped_total',
    help: 'Log lines this process dropped because its stdout was not being read (log-sink.ts).',
    registers: [registry],
    collect() {
      const dropped = droppedLogLines();
      this.inc(dropped - droppedSeen);
      droppedSeen = dropped;
    },
  });
  const labelNames = ['method', 'route', 'status_code'] as const;
  return {
    registry,
    httpServer: {
      requests: new Counter({
        name: 'http_server_requests_total',
        help: 'Inbound HTTP requests answered, by method, route template and status code.',
        labelNames,
        registers: [registry],
      }),
      duration: new Histogram({
        name: 'http_server_request_duration_seconds',
        help: 'Time from receiving an inbound HTTP request to finishing its response.',
        labelNames,
        buckets: durationBucketsSeconds,
        registers: [registry],
      }),
      active: new Gauge({
        name: 'http_server_active_requests',
        help: 'Inbound HTTP requests being served now.',
        labelNames: ['method'],
        registers: [registry],
      }),
    },
    rpcServer: {
      requests: new Counter({
        name: 'rpc_server_requests_total',
        help: 'Inbound gRPC (and Connect) calls answered, by protobuf service, method and Baton code (ok for success).',
        labelNames: ['service', 'method', 'code'],
        registers: [registry],
      }),
      duration: new Histogram({
        name: 'rpc_server_request_duration_seconds',
        help: 'Time from receiving an inbound gRPC call to its answer.',
        labelNames: ['service', 'method', 'code'],
        buckets: durationBucketsSeconds,
        registers: [registry],
      }),
    },
    protection: {
      shed: new Counter({
        name: 'baton_server_shed_requests_total',
        help: 'Inbound requests refused with 503 by load shedding, by route and priority.',
        labelNames: ['route', 'priority'],
        registers: [registry],
      }),
      concurrencyLimit: new Gauge({
        name: 'baton_server_concurrency_limit',
        help: 'The adaptive limit on inbound requests in flight that load shedding enforces now.',
        registers: [registry],
      }),
      deadlineExceeded: new Counter({
        name: 'baton_deadline_exceeded_total',
        help: 'Requests answered 504, by the hop whose deadline ran out (this service or an upstream).',
        labelNames: ['hop'],
        registers: [registry],
      }),
    },
  };
}
