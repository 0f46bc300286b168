import type { ConnectRouter } from '@connectrpc/connect';
import type { Tracer } from '@opentelemetry/api';
import type { FastifyInstance } from 'fastify';
import type { ServiceConfig } from '../config/index.ts';
import type { Database } from '../db/index.ts';
import type { HttpClient, HttpClientOptions } from '../http/index.ts';
import type { GrpcClient, GrpcClientOptions } from '../rpc/index.ts';
import type { Logger, Metrics } from '../telemetry/index.ts';
import type { ProblemPresenter } from './error-handler.ts';
import type { RouteCallers } from './route-callers.ts';

/**
 * What a service's code is handed once the skeleton has started: everything it may use. A
 * service that keeps data gets its database too ({@link ServiceContext}); this is the whole of
 * what a stateless one (the gateway) gets.
 */
export interface StatelessServiceContext<C extends ServiceConfig = ServiceConfig> {
  config: C;
  /**
   * The service's admin listener (`ADMIN_HOST`:`ADMIN_PORT`, loopback by default), apart from
   * the port `setup`'s `app` listens on: `/admin/*` routes go here, never on `app` (which
   * refuses them). Every request to it but `/metrics` must carry this service's admin token,
   * checked before the route runs, so a route here needs no check of its own.
   *
   * @example
   * adminApp.post('/admin/keys/rotate', async () => rotate());
   */
  adminApp: FastifyInstance;
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
  createHttpClient(options: Omit<HttpClientOptions, 'logger' | 'onEvent' | 'tracer' | 'identity'>): HttpClient;
  /** The same for a gRPC upstream: the kit's gRPC client, wired and closed the same way. */
  createGrpcClient(options: Omit<GrpcClientOptions, 'logger' | 'onEvent' | 'tracer' | 'identity'>): GrpcClient;
  /**
   * Adds a named check to `/readyz` (a broker connection, say); it throws when not ready. One
   * that is not `essential` shows failing in the report without making the service unready.
   */
  addReadinessCheck(name: string, check: (signal: AbortSignal) => Promise<void>, options?: { essential?: boolean }): void;
}

/** What a service that keeps data is handed: the same, and its own database, migrated. */
export interface ServiceContext<C extends ServiceConfig = ServiceConfig> extends StatelessServiceContext<C> {
  db: Database;
}

/** What every service describes, whatever it keeps: `X` is the context its code is handed. */
export interface ServiceDefinitionOf<C extends ServiceConfig, X extends StatelessServiceContext<C>> {
  name: string;
  /** Registers routes (`/admin/*` ones on `context.adminApp`) and starts any background work; runs after migrations. */
  setup(app: FastifyInstance, context: X): Promise<void> | void;
  /**
   * A gRPC listener beside the HTTP one (Connect-ES on HTTP/2 cleartext: gRPC, gRPC-Web and
   * Connect), with the kit's deadline, errors, health service and graceful shutdown. Its routes
   * are registered after `setup`, with the same context, so both share the domain code.
   */
  grpc?: {
    /** The port, from the service's config (`GRPC_PORT`). */
    port(config: C): number;
    routes(router: ConnectRouter, context: X): void;
    /**
     * Who may call each method, by `<package.Service>/<Method>` (`baton.inventory.v1.InventoryService/CreateReservation`):
     * as a route's `callers`. With service identity on, a method not named here fails the start.
     */
    callers?: Readonly<Record<string, RouteCallers>>;
  };
  /**
   * How its problem documents are worded for its callers. Services speak the kit's codes to one
   * another; the public edge (the gateway) words them in its API's catalogue. The status stays the code's.
   */
  presentProblem?: ProblemPresenter;
}

/**
 * A service, described: its name, its migrations and its routes. `startService` turns it into
 * a running HTTP server with health, metrics, logs, errors and shutdown handled the same way
 * for every service; `runService` does that for a whole process (config read once, signals,
 * exit codes), and is what a service's `main.ts` calls. Its config must carry
 * `databaseConfigFields()`: the service opens its own database (`DATABASE_URL`), applies its
 * migrations and reports the database in `/readyz`.
 *
 * @example
 * // services/inventory/src/main.ts
 * await runService(inventoryService, readConfig);
 */
export interface ServiceDefinition<C extends ServiceConfig = ServiceConfig> extends ServiceDefinitionOf<C, ServiceContext<C>> {
  /** Folder of `NNNN_name.sql` files applied at start. */
  migrationsDir: string;
}

/**
 * A service that keeps no data of its own (the gateway): no migrations, no `DATABASE_URL`, no
 * pool, and no database in `/readyz`. Everything else is a {@link ServiceDefinition}'s.
 */
export interface StatelessServiceDefinition<C extends ServiceConfig = ServiceConfig> extends ServiceDefinitionOf<C, StatelessServiceContext<C>> {
  migrationsDir?: never;
}

/**
 * Either kind of context, as the skeleton builds it: `db` is there only for a service that keeps
 * data. `startService`'s overloads pair each kind of definition with its kind of context.
 */
export type AnyServiceContext = StatelessServiceContext & { db?: Database };

/** Either kind of definition, as the skeleton sees it (see {@link AnyServiceContext}). */
export type AnyServiceDefinition = ServiceDefinitionOf<ServiceConfig, AnyServiceContext> & { migrationsDir?: string };
