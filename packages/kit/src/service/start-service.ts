import type { SpanProcessor } from '@opentelemetry/sdk-trace';
import type { FastifyInstance } from 'fastify';
import { createServiceIdentity } from '../auth/service-identity/create-identity.ts';
import { adminSettingsOf } from '../config/admin-settings.ts';
import { hasIdentity, type DatabaseConfig, type ServiceConfig } from '../config/index.ts';
import type { Database } from '../db/index.ts';
import type { Logger, Metrics, Tracing } from '../telemetry/index.ts';
import { createAdminServer, refuseAdminRoutes } from './admin-listener.ts';
import type { AnyServiceDefinition, ServiceDefinition, StatelessServiceDefinition } from './definition.ts';
import { startGrpcListener } from './grpc-listener.ts';
import { createFaultRules } from './faults.ts';
import { createReadiness } from './health.ts';
import { createHttpServer } from './http-server.ts';
import { installRequestSteps } from './request-steps.ts';
import { createServiceContext } from './service-context.ts';
import { applyMigrations, openServiceDatabase } from './service-database.ts';
import { limitsOf, type ServiceLimits } from './service-limits.ts';
import { createServiceTelemetry } from './service-telemetry.ts';
import { createShutdown, installResourceClosing, type Closer, type ShutdownResult, type ShutdownState } from './shutdown.ts';


// Connections waiting to be accepted. Node's default (511) overflows under a storm of new
// connections (a crowd at 5× capacity opens thousands at once): the kernel then drops their SYNs
// and the clients wait out their connect timeout, unanswered (seen in npm run chaos's
// overload-12x: 1516 connect timeouts, 254 resets). Queued instead, each is accepted and, if
// the service is full, shed at once with a 503. Linux caps it at net.core.somaxconn (4096).
const listenBacklog = 4_096;

/** A started service; `D` is its database, `undefined` for a stateless one. */
export interface RunningService<D extends Database | undefined = Database> {
  name: string;
  app: FastifyInstance;
  /** The admin listener: `/metrics` and the `/admin/*` routes, apart from `url`. */
  adminApp: FastifyInstance;
  db: D;
  logger: Logger;
  metrics: Metrics;
  tracing: Tracing;
  /** The base URL the service listens on, e.g. `http://127.0.0.1:8082`. */
  url: string;
  /** Where its admin listener is, e.g. `http://127.0.0.1:10082`: `/metrics`, `/admin/*`. */
  adminUrl: string;
  /** Where its gRPC listener is, e.g. `http://127.0.0.1:9082`, when it has one. */
  grpcUrl: string | undefined;
  /**
   * Readiness turns false at once; after the drain delay the listeners close, idle keep-alive
   * connections are closed, in-flight requests finish (up to SHUTDOWN_TIMEOUT_MS, then they are
   * cut), and last the service's own closers and its database (if it has one) close. Safe to
   * call twice.
   */
  shutdown(reason: string): Promise<ShutdownResult>;
}

export interface StartOptions {
  /** A logger to use instead of a new one (tests pass a silent one). */
  logger?: Logger;
  /** Span processors added to the service's tracing (tests pass an in-memory exporter's). */
  spanProcessors?: SpanProcessor[];
  /** Limits to use instead of the config's or the defaults (`defaultServiceLimits`). */
  limits?: Partial<ServiceLimits>;
}

/**
 * Starts a service, one step after another: its telemetry, its database and migrations (a
 * stateless service has neither), its HTTP server with the request steps every Baton service
 * shares (`request-steps.ts`) and its admin listener (`admin-listener.ts`), the service's own
 * setup, the listeners, and the shutdown that undoes it all in reverse.
 */
export function startService<C extends ServiceConfig & DatabaseConfig>(definition: ServiceDefinition<C>, config: C, options?: StartOptions): Promise<RunningService>;
export function startService<C extends ServiceConfig>(definition: StatelessServiceDefinition<C>, config: C, options?: StartOptions): Promise<RunningService<undefined>>;
export function startService(definition: AnyServiceDefinition, config: ServiceConfig & Partial<DatabaseConfig>, options?: StartOptions): Promise<RunningService<Database | undefined>> {
  return startAnyService(definition, config, options);
}

/** `startService` for either kind of definition, for `runService`, which has the same overloads. */
export async function startAnyService(
  definition: AnyServiceDefinition,
  config: ServiceConfig & Partial<DatabaseConfig>,
  options: StartOptions = {},
): Promise<RunningService<Database | undefined>> {
  const { name } = definition;
  const admin = adminSettingsOf(config);
  const limits = limitsOf(config, options.limits);
  const { logger, metrics, tracing } = createServiceTelemetry(name, config, options);
  const db = openServiceDatabase(definition, config, tracing);
  let adminApp: FastifyInstance | undefined;
  try {
    if (db !== undefined && definition.migrationsDir !== undefined) await applyMigrations(db, definition.migrationsDir, logger);
    const readiness = createReadiness({ onCheckFailed: (check, error) => logger.warn({ err: error, check }, 'readiness check failed') });
    if (db !== undefined) readiness.add('database', (signal) => db.ping({ signal }));

    const state: ShutdownState = { closing: false, grpcClosed: undefined, adminClosed: undefined };
    const isClosing = () => state.closing;
    const faults = createFaultRules(config.FAULTS);
    // Every Baton service has one (its config requires SERVICE_KEY); the kit's own test fixtures may not.
    const identity = hasIdentity(config) ? createServiceIdentity(name, config) : undefined;
    const app = createHttpServer(logger, limits, { trustedProxies: config.TRUSTED_PROXIES });
    refuseAdminRoutes(app);
    installRequestSteps(app, { service: name, config, limits, metrics, tracer: tracing.tracer, readiness, faults, isClosing, identity, presentProblem: definition.presentProblem });
    adminApp = createAdminServer({ service: name, logger, limits, registry: metrics.registry, faults, token: admin.token, isClosing });
    const closers: Closer[] = [];
    const context = createServiceContext({ config, adminApp, db, logger, metrics, tracer: tracing.tracer, readiness, closers, identity });
    await definition.setup(app, context);
    installResourceClosing(app, { state, closers, db, tracing, logger });

    // The admin listener first: a port it cannot have fails the start before the public one opens.
    const adminUrl = (await adminApp.listen({ host: admin.host, port: admin.port })).replace('[::1]', 'localhost');
    if (admin.token === undefined) logger.info('no ADMIN_TOKEN or ADMIN_TOKEN_FILE: the /admin routes refuse every request');
    logger.info({ url: adminUrl, port: (adminApp.server.address() as { port: number }).port }, `${name} admin listening`);
    const url = (await app.listen({ host: config.HOST, port: config.PORT, backlog: listenBacklog })).replace('[::1]', 'localhost');
    logger.info({ url, port: (app.server.address() as { port: number }).port }, `${name} listening`);
    const grpcServer = await startGrpcListener(definition, context, { app, readiness, limits, identity, faults });
    const shutdown = createShutdown({ app, adminApp, grpcServer, readiness, logger, limits, state });
    return { name, app, adminApp, db, logger, metrics, tracing, url, adminUrl, grpcUrl: grpcServer?.url, shutdown };
  } catch (error) {
    await adminApp?.close().catch(() => {});
    await db?.close().catch(() => {});
    await tracing.shutdown().catch(() => {});
    throw error;
  }
}
