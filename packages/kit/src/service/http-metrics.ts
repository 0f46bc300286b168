import type { FastifyInstance } from 'fastify';
import type { HttpServerMetrics } from '../telemetry/metrics.ts';

/**
 * Counts every inbound request by method, route template (never the raw URL, which would
 * explode the series) and status. It listens on the response's `close`, which fires for a
 * finished response and for a caller that went away (counted as 499), so nothing is missed.
 */
export function installHttpMetrics(app: FastifyInstance, metrics: HttpServerMetrics): void {
  app.addHook('onRequest', function countRequest(request, reply, done) {
    const startedAt = process.hrtime.bigint();
    const method = request.method;
    metrics.active.inc({ method });
    reply.raw.once('close', () => {
      metrics.active.dec({ method });
      const route = request.routeOptions.url ?? 'unmatched';
      const status = reply.raw.writableFinished ? reply.raw.statusCode : 499;
      const labels = { method, route, status_code: String(status) };
      metrics.requests.inc(labels);
      metrics.duration.observe(labels, Number(process.hrtime.bigint() - startedAt) / 1e9);
    });
    done();
  });
}
