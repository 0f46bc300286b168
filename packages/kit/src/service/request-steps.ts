import type { Tracer } from '@opentelemetry/api';
import type { FastifyInstance } from 'fastify';
import type { ServiceIdentity } from '../auth/service-identity/service-identity.ts';
import type { ServiceConfig } from '../config/index.ts';
import { Code } from '../errors/index.ts';
import { createAdaptiveLimiter } from '../resilience/index.ts';
import type { Metrics } from '../telemetry/index.ts';
import { requireCallerDeclarations } from './caller-check.ts';
import { installConnectionClosing } from './closing-connections.ts';
import { installBodyDrain } from './drain-request.ts';
import { installErrorHandling, type ProblemPresenter } from './error-handler.ts';
import { installFaultInjection, type FaultRules } from './faults.ts';
import { installHealthRoutes, type Readiness } from './health.ts';
import { createLoadShedding, type LoadShedding } from './load-shedding.ts';
import { installNulGuard } from './nul-guard.ts';
import { installRequestLifecycle } from './request-lifecycle.ts';
import { installReceiveTimeout } from './receive-timeout.ts';
import { createRequestTracing } from './request-tracing.ts';
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
  /** How its problem documents are worded for its callers; the kit's words by default. */
  presentProblem?: ProblemPresenter | undefined;
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
  // Before any other hook: what every request goes through on arrival, and once its response
  // closes, in one hook and one listener (request id, metrics, log, closing refusal, shedding,
  // caller check, span, deadline: the order is in request-lifecycle.ts).
  function runLifecycle(app, { service, config, limits, metrics, tracer, isClosing, identity }) {
    const shedding = limits.loadShedding ? sheddingOf(limits, metrics) : undefined;
    installRequestLifecycle(app, {
      isClosing,
      metrics: metrics.httpServer,
      ...(shedding === undefined ? {} : { shedding }),
      ...(identity === undefined ? {} : { callers: identity.verifier }),
      tracing: createRequestTracing(tracer, {
        port: () => (app.server.address() as { port: number } | null)?.port ?? config.PORT,
        trustInboundContext: config.TRUST_INBOUND_TRACE_CONTEXT,
      }),
      deadline: { defaultDeadlineMs: limits.requestDeadlineMs, service, answerGraceMs: limits.deadlineAnswerGraceMs },
      log: true,
    });
  },
  // After the lifecycle, so a 408 for a body that stopped arriving is counted, logged and traced.
  function cutStalledBodies(app, { limits }) {
    installReceiveTimeout(app, { receiveTimeoutMs: limits.requestReceiveTimeoutMs });
  },
  function drainUnreadBody(app) {
    installBodyDrain(app);
  },
  function closeConnectionsWhenClosing(app, { isClosing }) {
    installConnectionClosing(app, isClosing);
  },
  function answerErrors(app, { service, metrics, presentProblem }) {
    installErrorHandling(app, {
      present: presentProblem,
      onError(error) {
        if (error.code !== Code.DeadlineExceeded) return;
        const hop = typeof error.details.hop === 'string' ? error.details.hop : service;
        metrics.protection.deadlineExceeded.inc({ hop });
      },
    });
  },
  function refuseNul(app) {
    installNulGuard(app);
  },
  function serveHealth(app, { readiness }) {
    installHealthRoutes(app, readiness);
  },
  // After the lifecycle's hook: an injected delay runs within the request's deadline.
  function injectFaults(app, { faults }) {
    installFaultInjection(app, { faults });
  },
];

/** The adaptive concurrency limit of the service's HTTP server, its gauge kept up to date. */
function sheddingOf(limits: ServiceLimits, metrics: Metrics): LoadShedding {
  const limiter = createAdaptiveLimiter({
    initialLimit: limits.shedInitialLimit,
    minLimit: limits.shedMinLimit,
    onLimitChange: (_from, to) => metrics.protection.concurrencyLimit.set(to),
  });
  metrics.protection.concurrencyLimit.set(limiter.limit);
  return createLoadShedding(limiter, metrics.protection.shed);
}

/** Installs every request step on a service's HTTP server, in order, before the service's own routes. */
export function installRequestSteps(app: FastifyInstance, context: RequestStepContext): void {
  for (const step of requestSteps) step(app, context);
}
