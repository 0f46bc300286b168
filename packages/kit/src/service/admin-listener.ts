import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import { checkAdminToken } from '../auth/admin-token.ts';
import type { Logger } from '../telemetry/index.ts';
import { installConnectionClosing } from './closing-connections.ts';
import { installBodyDrain } from './drain-request.ts';
import { installErrorHandling } from './error-handler.ts';
import { registerFaultRoutes, type FaultRules } from './faults.ts';
import { createHttpServer } from './http-server.ts';
import { installNulGuard } from './nul-guard.ts';
import { installRequestLifecycle } from './request-lifecycle.ts';
import type { ServiceLimits } from './service-limits.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** On the admin listener only: served without the admin token (`/metrics`, which holds no secret). */
    withoutAdminToken?: boolean;
  }
}

/** What the admin listener serves besides `/metrics`: `/admin/` and below, nothing else. */
export const adminPathPrefix = '/admin/';
const metricsPath = '/metrics';

function isAdminPath(url: string): boolean {
  return url === metricsPath || url.startsWith(adminPathPrefix);
}

export interface AdminServerParts {
  service: string;
  logger: Logger;
  limits: ServiceLimits;
  /** The service's metrics, served as Prometheus text on `/metrics`. */
  registry: Registry;
  faults: FaultRules;
  /** This service's admin token; unset, every `/admin/*` request is refused. */
  token: string | undefined;
  /** True once shutdown has begun closing the listeners. */
  isClosing(): boolean;
}

/**
 * The service's second HTTP server, its admin listener: `/metrics` and every `/admin/*` route,
 * on `ADMIN_HOST`:`ADMIN_PORT` (loopback unless told otherwise), apart from the port the public
 * (or the other services) reach. Every request but `/metrics` must carry this service's admin
 * token, checked constant-time before any route runs; an unknown path is refused the same way,
 * so nothing tells a caller without the token which routes exist. It has the request steps an
 * operator's call needs (request id, log, problem+json errors, deadline, NUL guard, closing
 * connections at shutdown) and none of the public ones (load shedding, faults, tracing, request
 * metrics): a scrape must not count itself, and shedding must never hide the metrics that show
 * the shedding.
 */
export function createAdminServer({ service, logger, limits, registry, faults, token, isClosing }: AdminServerParts): FastifyInstance {
  const adminApp = createHttpServer(logger.child({ listener: 'admin' }), limits);
  adminApp.addHook('onRoute', function onlyAdminRoutes(route) {
    if (!isAdminPath(route.url)) throw new TypeError(`the admin listener serves /metrics and ${adminPathPrefix}* only, not ${route.url}`);
  });
  // The lifecycle's request id, log and deadline; none of its public parts (see above).
  installRequestLifecycle(adminApp, { deadline: { defaultDeadlineMs: limits.requestDeadlineMs, service, answerGraceMs: limits.deadlineAnswerGraceMs }, log: true });
  installBodyDrain(adminApp);
  installConnectionClosing(adminApp, isClosing);
  installErrorHandling(adminApp);
  adminApp.addHook('onRequest', function requireAdminToken(request, _reply, done) {
    if (request.routeOptions.config.withoutAdminToken === true) return done();
    try {
      checkAdminToken(request.headers.authorization, token);
      done();
    } catch (error) {
      done(error as Error);
    }
  });
  installNulGuard(adminApp);

  adminApp.get(metricsPath, { logLevel: 'warn', config: { withoutAdminToken: true } }, async function metrics(_request, reply) {
    const body = await registry.metrics();
    return reply.type(registry.contentType).send(body);
  });
  // The same figures as JSON, series by series with their labels (histogram buckets included), for
  // the runner's console, which reads every service's each second; behind the admin token.
  adminApp.get('/admin/metrics.json', { logLevel: 'warn' }, async function metricsAsJson() {
    return registry.getMetricsAsJSON();
  });
  registerFaultRoutes(adminApp, faults);
  return adminApp;
}

/**
 * On the service's public server: a route under `/admin/` or at `/metrics` is a mistake that
 * would put it on the public port, so registering one fails the start. Such routes belong on
 * the admin listener (`context.adminApp`).
 */
export function refuseAdminRoutes(app: FastifyInstance): void {
  app.addHook('onRoute', function noAdminRoutes(route) {
    if (isAdminPath(route.url)) throw new TypeError(`${route.url} belongs on the admin listener (context.adminApp), not the service's public port`);
  });
}
