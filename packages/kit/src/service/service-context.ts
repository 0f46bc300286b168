import type { Tracer } from '@opentelemetry/api';
import type { ServiceIdentity } from '../auth/service-identity/service-identity.ts';
import type { FastifyInstance } from 'fastify';
import type { ServiceConfig } from '../config/index.ts';
import type { Database } from '../db/index.ts';
import { createHttpClient } from '../http/index.ts';
import { createGrpcClient } from '../rpc/index.ts';
import type { Logger, Metrics } from '../telemetry/index.ts';
import { createClientMetrics } from '../telemetry/client-metrics.ts';
import { createResourceMetrics } from '../telemetry/resource-metrics.ts';
import type { AnyServiceContext } from './definition.ts';
import type { Readiness } from './health.ts';
import type { Closer } from './shutdown.ts';

export interface ServiceContextParts<C extends ServiceConfig> {
  config: C;
  /** The admin listener, for `/admin/*` routes. */
  adminApp: FastifyInstance;
  /** Only a service that keeps data has one. */
  db: Database | undefined;
  logger: Logger;
  metrics: Metrics;
  tracer: Tracer;
  readiness: Readiness;
  /** Where `onClose` and the clients register their closers; shutdown runs them in reverse. */
  closers: Closer[];
  /** The service's identity: every client it makes sends its token. */
  identity?: ServiceIdentity | undefined;
}

/** What a service's `setup` and gRPC routes are handed: its parts, and clients wired to them. */
export function createServiceContext<C extends ServiceConfig>({ config, adminApp, db, logger, metrics, tracer, readiness, closers, identity }: ServiceContextParts<C>): AnyServiceContext {
  const tokens = identity === undefined ? {} : { identity: identity.tokens };
  const clientMetrics = createClientMetrics(metrics.registry);
  const resourceMetrics = createResourceMetrics(metrics.registry, db);
  return {
    config,
    adminApp,
    // A stateless service's context has no `db` at all.
    ...(db === undefined ? {} : { db }),
    logger,
    metrics,
    tracer,
    onClose: (close) => void closers.push(close),
    createHttpClient(options) {
      // A service's token is for Baton's services: one outside is never sent it.
      const client = createHttpClient({ ...options, ...(options.outside === true ? {} : tokens), logger, onEvent: clientMetrics.onEvent, tracer });
      resourceMetrics.trackClient(client);
      closers.push(() => client.close());
      return client;
    },
    createGrpcClient(options) {
      const client = createGrpcClient({ ...options, ...tokens, logger, onEvent: clientMetrics.onEvent, tracer });
      resourceMetrics.trackClient(client);
      closers.push(() => client.close());
      return client;
    },
    addReadinessCheck: (name, check, options) => readiness.add(name, check, options),
  };
}
