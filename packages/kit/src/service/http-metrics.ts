import type { FastifyReply, FastifyRequest } from 'fastify';
import type { HttpServerMetrics } from '../telemetry/metrics.ts';

// Counts every inbound request by method, route template (never the raw URL, which would
// explode the series) and status. The request lifecycle (`request-lifecycle.ts`) counts the
// arrival and, on the response's `close`, the answer: `close` fires for a finished response and
// for a caller that went away (counted as 499), so nothing is missed.

/** A request has arrived: one more in flight. */
export function countArrival(metrics: HttpServerMetrics, request: FastifyRequest): void {
  metrics.active.inc({ method: request.method });
}

/** Its response has closed, `startedAt` (from `performance.now()`) after it arrived; `route` is its template. */
export function countAnswer(metrics: HttpServerMetrics, request: FastifyRequest, { raw }: FastifyReply, startedAt: number, route: string | undefined): void {
  metrics.active.dec({ method: request.method });
  const labels = { method: request.method, route: route ?? 'unmatched', status_code: String(raw.writableFinished ? raw.statusCode : 499) };
  metrics.requests.inc(labels);
  metrics.duration.observe(labels, (performance.now() - startedAt) / 1000);
}
