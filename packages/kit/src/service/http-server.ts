import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import type { Logger } from '../telemetry/index.ts';
import { answerClientError, answerUnmetExpectation } from './client-errors.ts';
import { kitErrorFromFastify, sendProblem } from './error-handler.ts';
import { requestIdOf } from './request-id.ts';
import { lazyRequestLoggers } from './request-logger.ts';
import type { ServiceLimits } from './service-limits.ts';

export interface HttpServerOptions {
  /**
   * The proxies (addresses or CIDR ranges) whose `X-Forwarded-For` gives the client's address
   * (`request.ip`); with none, the address is the socket's and the header is ignored.
   */
  trustedProxies?: readonly string[];
}

/**
 * The service's HTTP server, before any hook or route: its limits, its logger, its validation,
 * and the answers to requests refused before routing (a path that is not UTF-8, a path segment
 * past the router's limit, headers past Node's), which are problem documents like every other.
 */
export function createHttpServer(
  logger: Logger,
  limits: Pick<ServiceLimits, 'bodyLimitBytes' | 'requestReceiveTimeoutMs' | 'keepAliveTimeoutMs'>,
  { trustedProxies = [] }: HttpServerOptions = {},
): FastifyInstance {
  const app = Fastify({
    // pino's Logger type is wider than Fastify's logger type; they are the same object.
    loggerInstance: logger as FastifyBaseLogger,
    genReqId: requestIdOf,
    // One line per request is written by installRequestLog, with the route and duration.
    logController: new LogController({ requestIdLogLabel: 'request_id', disableRequestLogging: true }),
    // `request.log` is pino's child bound to the request id, made when a line is written.
    childLoggerFactory: lazyRequestLoggers,
    bodyLimit: limits.bodyLimitBytes,
    // A closing server still routes requests that arrive on open connections: the
    // refuseWhenClosing step answers them with a 503 that says nothing was started.
    return503OnClosing: false,
    forceCloseConnections: 'idle',
    // Node's whole-request timeout would cut a streamed upload, and never answered a body that
    // stopped arriving once its request was routed: bodies are timed by the kit's request step
    // (receive-timeout.ts), and Node keeps only the headers' own timeout, set below.
    requestTimeout: 0,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    trustProxy: trustedProxies.length > 0 ? [...trustedProxies] : false,
    // Refused by the router before any hook runs: a percent-encoding that is not UTF-8
    // (`%ED%A0%80`), a path parameter longer than maxParamLength (100 characters).
    frameworkErrors(error, request, reply) {
      request.log.info({ code: error.code }, 'refused before routing');
      void sendProblem(request, reply, kitErrorFromFastify(error));
    },
    clientErrorHandler: answerClientError,
  });
  // Routes declare their schemas with zod: one schema validates the request, types the
  // handler and (through @fastify/swagger) documents the API.
  app.server.on('checkExpectation', answerUnmetExpectation);
  // Slow-loris on the headers: they must arrive within the receive timeout (Node's 60 s if 0).
  app.server.headersTimeout = limits.requestReceiveTimeoutMs > 0 ? limits.requestReceiveTimeoutMs : 60_000;
  // JSON is the only body a Baton route reads: Fastify's own text/plain parser would let a text
  // body through to the schema, to fail there as a 400 where a form body is a 415. A route that
  // takes another type (an image upload) adds its own parser.
  app.removeContentTypeParser('text/plain');
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  return app;
}
