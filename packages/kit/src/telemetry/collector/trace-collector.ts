import Fastify from 'fastify';
import { z } from 'zod';
import { Code, KitError } from '../../errors/index.ts';
import { installErrorHandling } from '../../service/error-handler.ts';
import { exportTraceRequestSchema, spansOf } from './otlp-json.ts';
import { createTraceStore, type TraceStore } from './trace-store.ts';

export interface TraceCollector {
  /** Its base URL: services send to `<url>/v1/traces`; the trace view is `<url>/traces`. */
  url: string;
  store: TraceStore;
  close(): Promise<void>;
}

export interface TraceCollectorOptions {
  host?: string;
  port?: number;
  maxTraces?: number;
}

const traceIdParam = z.object({ traceId: z.string().regex(/^[0-9a-f]{32}$/, 'expected 32 hex digits') });
const limitQuery = z.object({ limit: z.coerce.number().int().min(1).max(500).default(20) });

function invalid(error: z.ZodError): KitError {
  return new KitError(Code.InvalidArgument, 'the request is not valid', {
    fields: error.issues.map((issue) => ({ field: issue.path.join('.') || 'body', message: issue.message })),
  });
}

/**
 * A trace view that needs nothing installed: an OTLP/HTTP (JSON) receiver for the spans of
 * every service, keeping recent traces in memory, and a JSON API that reads one as a
 * waterfall. `npm start` runs one and points every service at it; tests use one to check what
 * a request's trace contains.
 *
 * Written by hand because the alternatives are servers to install (Jaeger, the OpenTelemetry
 * Collector), which the two commands promise a new user never needs.
 *
 * @example
 * const collector = await startTraceCollector({ port: 0 });
 * // OTEL_EXPORTER_OTLP_ENDPOINT=collector.url for each service; then:
 * const waterfall = await (await fetch(`${collector.url}/traces/${traceId}`)).json();
 */
export async function startTraceCollector({ host = '127.0.0.1', port = 0, maxTraces = 500 }: TraceCollectorOptions = {}): Promise<TraceCollector> {
  const store = createTraceStore({ maxTraces });
  const app = Fastify({ bodyLimit: 16 * 1024 * 1024, forceCloseConnections: true });
  installErrorHandling(app);

  app.post('/v1/traces', async (request, reply) => {
    if (!String(request.headers['content-type'] ?? '').startsWith('application/json')) {
      throw new KitError(Code.InvalidArgument, 'only the OTLP/HTTP JSON encoding is accepted here', { reason: 'unsupported_media_type' });
    }
    const parsed = exportTraceRequestSchema.safeParse(request.body);
    if (!parsed.success) throw invalid(parsed.error);
    store.add(spansOf(parsed.data));
    return reply.code(200).send({ partialSuccess: {} });
  });
  app.get('/traces', async (request) => {
    const parsed = limitQuery.safeParse(request.query);
    if (!parsed.success) throw invalid(parsed.error);
    return { traces: store.recent(parsed.data.limit) };
  });
  app.get('/traces/:traceId', async (request) => {
    const parsed = traceIdParam.safeParse(request.params);
    if (!parsed.success) throw invalid(parsed.error);
    const waterfall = store.waterfall(parsed.data.traceId);
    if (waterfall === undefined) throw new KitError(Code.NotFound, 'no such trace here (yet, or any more)');
    return waterfall;
  });

  const url = await app.listen({ host, port });
  return { url, store, close: () => app.close() };
}
