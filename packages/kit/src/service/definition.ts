import type { ConnectRouter } from '@connectrpc/connect';
import type { Tracer } from '@opentelemetry/api';
import type { FastifyInstance } from 'fastify';
import type { ServiceConfig } from '../config/index.ts';
import type { Database } from '../db/index.ts';
import type { HttpClient, HttpClientOptions } from '../http/index.ts';
import type { GrpcClient, GrpcClientOptions } from '../rpc/index.ts';
import type { Logger, Metrics } from '../telemetry/index.ts';

/** What a service's code is handed once the skeleton has started: everything it may use. */
export interface ServiceContext<C extends ServiceConfig = ServiceConfig> {
  config: C;
  db: Database;
  logger: Logger;
  metrics: Metrics;
  /** The service's tracer, for spans of its own (the kit already traces requests, calls and queries). */
  tracer: Tracer;
  /** Registers work to run when the service closes, after in-flight requests have finished. */
  onClose(close: () => Promise<void> | void): void;
  /**
   * A kit HTTP client to an upstream, already wired to this service's logger and metrics
   * (attempts, retries, breaker state, ...) and closed when the service closes.
   */
  createHttpClient(options: Omit<HttpClientOptions, 'logger' | 'onEvent' | 'tracer'>): HttpClient;
  /** The same for a gRPC upstream: the kit's gRPC client, wired and closed the same way. */
  createGrpcClient(options: Omit<GrpcClientOptions, 'logger' | 'onEvent' | 'tracer'>): GrpcClient;
  /** Adds a named check to `/readyz` (a broker connection, say); it throws when not ready. */
  addReadinessCheck(name: string, check: (signal: AbortSignal) => Promise<void>): void;
}

/**
 * A service, described: its name, its migrations and its routes. `startService` turns it into
 * a running HTTP server with health, metrics, logs, errors and shutdown handled the same way
 * for every service; `runService` does that for a whole process (config read once, signals,
 * exit codes), and is what a service's `main.ts` calls.
 *
 * @example
 * // services/inventory/src/main.ts
 * await runService(inventoryService, readConfig);
 */
export interface ServiceDefinition<C extends ServiceConfig = ServiceConfig> {
  name: string;
  /** Folder of `NNNN_name.sql` files applied at start. */
  migrationsDir: string;
  /** Registers routes and starts any background work; runs after migrations. */
  setup(app: FastifyInstance, context: ServiceContext<C>): Promise<void> | void;
  /**
   * A gRPC listener beside the HTTP one (Connect-ES on HTTP/2 cleartext: gRPC, gRPC-Web and
   * Connect), with the kit's deadline, errors, health service and graceful shutdown. Its routes
   * are registered after `setup`, with the same context, so both share the domain code.
   */
  grpc?: {
    /** The port, from the service's config (`GRPC_PORT`). */
    port(config: C): number;
    routes(router: ConnectRouter, context: ServiceContext<C>): void;
  };
}
