import { setTimeout as sleep } from 'node:timers/promises';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import type { ServiceConfig } from '../config/index.ts';
import type { SpanProcessor } from '@opentelemetry/sdk-trace';
import { migrate, openPostgres, type Database } from '../db/index.ts';
import { traceDatabase } from '../db/traced-database.ts';
import { createLogger, createMetrics, type Logger, type Metrics, type Tracing } from '../telemetry/index.ts';
import { createClientMetrics } from '../telemetry/client-metrics.ts';
import { createResourceMetrics } from '../telemetry/resource-metrics.ts';
import { createTracing } from '../telemetry/tracing/tracing.ts';
import { createHttpClient } from '../http/index.ts';
import { createGrpcClient, startGrpcServer, type GrpcServer } from '../rpc/index.ts';
import type { ServiceContext, ServiceDefinition } from './definition.ts';
import { installErrorHandling } from './error-handler.ts';
import { drainRequest } from './drain-request.ts';
import { installFaultInjection } from './faults.ts';
import { installInboundDeadline } from './inbound-deadline.ts';
import { installLoadShedding } from './load-shedding.ts';
import { installNulGuard } from './nul-guard.ts';
import { createAdaptiveLimiter } from '../resilience/index.ts';
import { Code } from '../errors/index.ts';
import { createReadiness, installHealthRoutes } from './health.ts';
import { installHttpMetrics } from './http-metrics.ts';
import { installRequestTracing } from './request-tracing.ts';
import { requestIdHeader, requestIdOf } from './request-id.ts';

export interface ShutdownResult {
  /** False when in-flight requests were cut because SHUTDOWN_TIMEOUT_MS ran out. */
  clean: boolean;
}

export interface RunningService {
  name: string;
  app: FastifyInstance;
  db: Database;
  logger: Logger;
  metrics: Metrics;
  tracing: Tracing;
  /** The base URL the service listens on, e.g. `http://127.0.0.1:8082`. */
  url: string;
  /** Where its gRPC listener is, e.g. `http://127.0.0.1:9082`, when it has one. */
  grpcUrl: string | undefined;
  /**
   * Readiness turns false at once; after the drain delay the listener closes, idle keep-alive
   * connections are closed, in-flight requests finish (up to SHUTDOWN_TIMEOUT_MS, then they are
   * cut), and last the service's own closers and its database close. Safe to call twice.
   */
  shutdown(reason: string): Promise<ShutdownResult>;
}

export interface StartOptions {
  /** A logger to use instead of a new one (tests pass a silent one). */
  logger?: Logger;
  /** Span processors added to the service's tracing (tests pass an in-memory exporter's). */
  spanProcessors?: SpanProcessor[];
}

/**
 * Opens the service's database, applies its migrations, builds its HTTP server with the
 * behaviour every Baton service shares, lets the service add its routes, and listens.
 */
export async function startService<C extends ServiceConfig>(
  definition: ServiceDefinition<C>,
  config: C,
  options: StartOptions = {},
): Promise<RunningService> {
  const logger = options.logger ?? createLogger({ service: definition.name, level: config.LOG_LEVEL });
  const metrics = createMetrics();
  const tracing = createTracing({
    service: definition.name,
    enabled: !config.OTEL_SDK_DISABLED,
    otlpEndpoint: config.OTEL_EXPORTER_OTLP_ENDPOINT,
    sampler: config.OTEL_TRACES_SAMPLER,
    samplerRatio: config.OTEL_TRACES_SAMPLER_ARG,
    exportDelayMs: config.OTEL_BSP_SCHEDULE_DELAY,
    spanProcessors: options.spanProcessors ?? [],
  });
  const db = traceDatabase(openPostgres({ url: config.DATABASE_URL, applicationName: definition.name, maxConnections: config.DATABASE_POOL_MAX }), tracing.tracer);
  const closers: Array<() => Promise<void> | void> = [];
  try {
    const { applied } = await migrate(db, definition.migrationsDir);
    logger.info({ applied }, applied.length > 0 ? 'migrations applied' : 'schema up to date');

    const app = Fastify({
      // pino's Logger type is wider than Fastify's logger type; they are the same object.
      loggerInstance: logger as FastifyBaseLogger,
      genReqId: requestIdOf,
      // One line per request is written by logRequest below, with the route and duration.
      logController: new LogController({ requestIdLogLabel: 'request_id', disableRequestLogging: true }),
      bodyLimit: 1024 * 1024,
      // A closing server answers requests that still arrive on open connections with 503.
      return503OnClosing: true,
      forceCloseConnections: 'idle',
      // Slow-loris protection: a request must arrive whole within this time.
      requestTimeout: 60_000,
    });
    // Routes declare their schemas with zod: one schema validates the request, types the
    // handler and (through @fastify/swagger) documents the API.
    app.setValidatorCompiler(validatorCompiler);
    app.setSerializerCompiler(serializerCompiler);
    const readiness = createReadiness({
      onCheckFailed: (name, error) => logger.warn({ err: error, check: name }, 'readiness check failed'),
    });
    readiness.add('database', (signal) => db.ping({ signal }));

    app.addHook('onRequest', function echoRequestId(request, reply, done) {
      reply.header(requestIdHeader, request.id);
      done();
    });
    app.addHook('onResponse', function logRequest(request, reply, done) {
      request.log.info({
        method: request.method,
        route: request.routeOptions.url,
        path: request.url.split('?')[0],
        status: reply.statusCode,
        duration_ms: Math.round(reply.elapsedTime * 10) / 10,
      }, 'request completed');
      done();
    });
    // An error answered before the body arrived (too large, rate-limited, unauthenticated):
    // the client is still sending, so let it finish and it reads the answer, not a broken pipe.
    app.addHook('onSend', async function drainUnreadBody(request, reply, payload) {
      if (reply.statusCode >= 400) await drainRequest(request.raw);
      return payload;
    });
    // Once the listener closes, a keep-alive connection whose response has finished would keep
    // the server open until the shutdown timeout cut it. So every answer sent from then on says
    // `Connection: close`, and a connection that turns idle anyway (its response began before
    // shutdown) is closed as soon as it does.
    let closingConnections = false;
    app.addHook('onSend', function closeConnectionWhenClosing(_request, reply, payload, done) {
      if (closingConnections) reply.header('connection', 'close');
      done(null, payload);
    });
    app.addHook('onResponse', function closeIdleWhenClosing(_request, _reply, done) {
      if (closingConnections) setImmediate(() => app.server.closeIdleConnections());
      done();
    });
    installErrorHandling(app, {
      onError(error) {
        if (error.code === Code.DeadlineExceeded) {
          const hop = typeof error.details.hop === 'string' ? error.details.hop : definition.name;
          metrics.protection.deadlineExceeded.inc({ hop });
        }
      },
    });
    installHttpMetrics(app, metrics.httpServer);
    if (config.LOAD_SHEDDING) {
      // Start generous and let latency teach the limit downwards: a fresh instance that shed
      // a burst it could have served would look broken, while one that queues a little before
      // learning is only slow for a second.
      const limiter = createAdaptiveLimiter({
        initialLimit: 200,
        // A floor that a burst of slow answers cannot push a service below: twenty requests in
        // flight is little for any of Baton's services, and a gateway whose upstreams slow down
        // sees their latency as its own.
        minLimit: 20,
        onLimitChange: (_from, to) => metrics.protection.concurrencyLimit.set(to),
      });
      metrics.protection.concurrencyLimit.set(limiter.limit);
      installLoadShedding(app, limiter, metrics.protection.shed);
    }
    // After shedding, so a shed request costs no span; before the deadline, so its 504 is traced.
    installRequestTracing(app, tracing.tracer, { port: () => (app.server.address() as { port: number } | null)?.port ?? config.PORT });
    installInboundDeadline(app, { defaultDeadlineMs: config.REQUEST_DEADLINE_MS, service: definition.name });
    installNulGuard(app);
    installHealthRoutes(app, readiness, metrics.registry);
    installFaultInjection(app, { rules: config.FAULTS ?? [], adminToken: config.ADMIN_TOKEN });

    const clientMetrics = createClientMetrics(metrics.registry);
    const resourceMetrics = createResourceMetrics(metrics.registry, db);
    const context: ServiceContext<C> = {
      config,
      db,
      logger,
      metrics,
      tracer: tracing.tracer,
      onClose: (close) => void closers.push(close),
      createHttpClient(options) {
        const client = createHttpClient({ ...options, logger, onEvent: clientMetrics.onEvent, tracer: tracing.tracer });
        resourceMetrics.trackClient(client);
        closers.push(() => client.close());
        return client;
      },
      createGrpcClient(options) {
        const client = createGrpcClient({ ...options, logger, onEvent: clientMetrics.onEvent, tracer: tracing.tracer });
        resourceMetrics.trackClient(client);
        closers.push(() => client.close());
        return client;
      },
      addReadinessCheck: (name, check) => readiness.add(name, check),
    };
    await definition.setup(app, context);

    // Set when shutdown starts: the gRPC listener drains beside the HTTP one, and both are done
    // before the closers and the database go.
    let grpcClosed: Promise<{ clean: boolean }> | undefined;
    app.addHook('onClose', async function closeResources() {
      await grpcClosed;
      for (const close of closers.reverse()) {
        try {
          await close();
        } catch (error) {
          logger.error({ err: error }, 'a closer failed during shutdown');
        }
      }
      await db.close();
      // Last, so the spans of the shutdown itself are sent.
      await tracing.shutdown().catch((error: unknown) => logger.warn({ err: error }, 'spans could not be sent at shutdown'));
    });

    const address = await app.listen({ host: config.HOST, port: config.PORT });
    const url = address.replace('[::1]', 'localhost');
    logger.info({ url, port: (app.server.address() as { port: number }).port }, `${definition.name} listening`);
    let grpcServer: GrpcServer | undefined;
    if (definition.grpc !== undefined) {
      const { grpc } = definition;
      try {
        grpcServer = await startGrpcServer({
          host: config.HOST,
          port: grpc.port(config),
          service: definition.name,
          routes: (router) => grpc.routes(router, context),
          readiness,
          logger,
          metrics: metrics.rpcServer,
          defaultDeadlineMs: config.REQUEST_DEADLINE_MS,
          tracer: tracing.tracer,
        });
      } catch (error) {
        await app.close();
        throw error;
      }
    }

    let closing: Promise<ShutdownResult> | undefined;
    const shutdown = (reason: string): Promise<ShutdownResult> => {
      closing ??= (async () => {
        readiness.markShuttingDown();
        logger.info({ reason, timeout_ms: config.SHUTDOWN_TIMEOUT_MS }, 'shutting down');
        if (config.SHUTDOWN_DRAIN_DELAY_MS > 0) await sleep(config.SHUTDOWN_DRAIN_DELAY_MS);
        let forced = false;
        const deadline = setTimeout(() => {
          forced = true;
          logger.warn('shutdown timeout reached; closing the connections still open');
          app.server.closeAllConnections();
        }, config.SHUTDOWN_TIMEOUT_MS);
        closingConnections = true;
        grpcClosed = grpcServer?.close({ timeoutMs: config.SHUTDOWN_TIMEOUT_MS });
        try {
          await app.close();
        } finally {
          clearTimeout(deadline);
        }
        const grpcClean = (await grpcClosed)?.clean ?? true;
        logger.info({ clean: !forced && grpcClean }, 'shut down');
        return { clean: !forced && grpcClean };
      })();
      return closing;
    };

    return { name: definition.name, app, db, logger, metrics, tracing, url, grpcUrl: grpcServer?.url, shutdown };
  } catch (error) {
    await db.close().catch(() => {});
    await tracing.shutdown().catch(() => {});
    throw error;
  }
}
