import type { FastifyReply, FastifyRequest } from 'fastify';

/**
 * One log line per request, once its response has closed, with the route and how long it took,
 * in place of Fastify's own request logging (turned off in http-server.ts). Written by the
 * request lifecycle (`request-lifecycle.ts`); a caller that left before the answer is a 499.
 */
export function logAnswer(request: FastifyRequest, reply: FastifyReply, route: string | undefined): void {
  request.log.info({
    method: request.method,
    route,
    path: request.url.split('?')[0],
    status: reply.raw.writableFinished ? reply.statusCode : 499,
    duration_ms: Math.round(reply.elapsedTime * 10) / 10,
  }, 'request completed');
}
