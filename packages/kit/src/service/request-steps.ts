import type { Tracer } from '@opentelemetry/api';
import type { FastifyInstance } from 'fastify';
import type { ServiceIdentity } from '../auth/service-identity/service-identity.ts';
import type { ServiceConfig } from '../config/index.ts';
import { Code } from '../errors/index.ts';
import { createAdaptiveLimiter } from '../resilience/index.ts';
import type { Metrics } from '../telemetry/index.ts';
import { installCallerCheck, requireCallerDeclarations } from './caller-check.ts';
import { installClosingRefusal, installConnectionClosing } from './closing-connections.ts';
import { installBodyDrain } from './drain-request.ts';
import { installErrorHandling } from './error-handler.ts';
import { installFaultInjection, type FaultRules } from './faults.ts';
import { installHealthRoutes, type Readiness } from './health.ts';
import { installHttpDeadline } from './http-deadline.ts';
import { installHttpMetrics } from './http-metrics.ts';
import { installLoadShedding } from './load-shedding.ts';
import { installNulGuard } from './nul-guard.ts';
import { installRequestIdEcho } from './request-id.ts';
import { installRequestLog } from './request-log.ts';
import { installRequestTracing } from './request-tracing.ts';
import type { ServiceLimits } from './service-limits.ts';

/** What the request steps are given: the service's own parts, made before its server. */
export interface RequestStepContext {
  service: string;
  config: ServiceConfig;
  limits: ServiceLimits;
  metrics: Metrics;
  tracer: Tracer;
  readiness: Readiness;
  /** The fault rules in force, which the admin listener's `/admin/faults` replaces. */
  faults: FaultRules;
  /** True once shutdown has begun closing the listeners. */
  isClosing(): boolean;
  /** The service's workload identity (from `SERVICE_KEY`, `SERVICE_TRUST`); without it no caller is checked. */
  identity: ServiceIdentity | undefined;
}

export type RequestStep = (app: FastifyInstance, context: RequestStepContext) => void;

/**
 * What every request to every service goes through, in this order. Fastify runs the hooks of
 * one kind in the order they were added, so the order of this list is the order of the
 * behaviour: a step that must come before another comes before it here, and only here.
 */
export const requestSteps: readonly RequestStep[] = [
  // First, so it sees every route, the kit's own included.
  function requireCallers(app, { service, identity }) {
    if (identity !== undefined) requireCallerDeclarations(app, service);
  },
  function echoRequestId(app) {
    installRequestIdEcho(app);
  },
  function logRequest(app) {
    installRequestLog(app);
  },
  function drainUnreadBody(app) {
    installBodyDrain(app);
  },
  function closeConnectionsWhenClosing(app, { isClosing }) {
    installConnectionClosing(app, isClosing);
  },
  // Before any protection or handler: a refused request must not have started anything.
  function refuseWhenClosing(app, { isClosing }) {
    installClosingRefusal(app, isClosing);
  },
  function answerErrors(app, { service, metrics }) {
    installErrorHandling(app, {
      onError(error) {
        if (error.code !== Code.DeadlineExceeded) return;
        const hop = typeof error.details.hop === 'string' ? error.details.hop : service;
        metrics.protection.deadlineExceeded.inc({ hop });
      },
    });
  },
  function countRequests(app, { metrics }) {
    installHttpMetrics(app, metrics.httpServer);
  },
  // The first of the protections: a shed request costs nothing of what follows.
  function shedLoad(app, { limits, metrics }) {
    if (!limits.loadShedding) return;
    const limiter = createAdaptiveLimiter({
      initialLimit: limits.shedInitialLimit,
      minLimit: limits.shedMinLimit,
      onLimitChange: (_from, to) => metrics.protection.concurrencyLimit.set(to),
    });
    metrics.protection.concurrencyLimit.set(limiter.limit);
    installLoadShedding(app, limiter, metrics.protection.shed);
  },
  // Right after shedding: a caller without the right credential gets nothing else, not even a span.
  function checkCallers(app, { identity }) {
    if (identity !== undefined) installCallerCheck(app, identity.verifier);
  },
  // After shedding, so a shed request costs no span; before the deadline, so its 504 is traced.
  function traceRequest(app, { tracer, config }) {
    installRequestTracing(app, tracer, { port: () => (app.server.address() as { port: number } | null)?.port ?? config.PORT });
  },
  function startDeadline(app, { service, limits }) {
    installHttpDeadline(app, { defaultDeadlineMs: limits.requestDeadlineMs, service, answerGraceMs: limits.deadlineAnswerGraceMs });
  },
  function refuseNul(app) {
    installNulGuard(app);
  },
  function serveHealth(app, { readiness }) {
    installHealthRoutes(app, readiness);
  },
  function injectFaults(app, { faults }) {
    installFaultInjection(app, { faults });
  },
];

/** Installs every request step on a service's HTTP server, in order, before the service's own routes. */
export function installRequestSteps(app: FastifyInstance, context: RequestStepContext): void {
  for (const step of requestSteps) step(app, context);
}
