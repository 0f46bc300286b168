import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import type { Logger } from '../telemetry/index.ts';
import { requestIdOf } from './request-id.ts';
import type { ServiceLimits } from './service-limits.ts';

/** The service's HTTP server, before any hook or route: its limits, its logger, its validation. */
export function createHttpServer(logger: Logger, limits: Pick<ServiceLimits, 'bodyLimitBytes' | 'requestReceiveTimeoutMs' | 'keepAliveTimeoutMs'>): FastifyInstance {
  const app = Fastify({
    // pino's Logger type is wider than Fastify's logger type; they are the same object.
    loggerInstance: logger as FastifyBaseLogger,
    genReqId: requestIdOf,
    // One line per request is written by installRequestLog, with the route and duration.
    logController: new LogController({ requestIdLogLabel: 'request_id', disableRequestLogging: true }),
    bodyLimit: limits.bodyLimitBytes,
    // A closing server still routes requests that arrive on open connections: the
    // refuseWhenClosing step answers them with a 503 that says nothing was started.
    return503OnClosing: false,
    forceCloseConnections: 'idle',
    requestTimeout: limits.requestReceiveTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
  });
  // Routes declare their schemas with zod: one schema validates the request, types the
  // handler and (through @fastify/swagger) documents the API.
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  return app;
}
