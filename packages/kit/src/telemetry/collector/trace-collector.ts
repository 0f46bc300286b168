import { create, toBinary } from '@bufbuild/protobuf';
import { ExportTraceServiceResponseSchema } from '@baton/contracts/opentelemetry/collector/trace/v1';
import Fastify, { type FastifyInstance } from 'fastify';
import { z } from 'zod';
import { Code, KitError } from '../../errors/index.ts';
import { installErrorHandling } from '../../service/error-handler.ts';
import { exportTraceRequestSchema, spansOf } from './otlp-json.ts';
import { decodeTraceRequest, spansOfProtobuf } from './otlp-protobuf.ts';
import { createTraceStore, type TraceStore, type TraceStoreOptions } from './trace-store.ts';

export interface TraceCollector {
  /** Its base URL: services send to `<url>/v1/traces`; the trace view is `<url>/traces`. */
  url: string;
  store: TraceStore;
  close(): Promise<void>;
}

export interface TraceCollectorOptions extends TraceStoreOptions {
  host?: string;
  port?: number;
}

const traceIdParam = z.object({ traceId: z.string().regex(/^[0-9a-f]{32}$/, 'expected 32 hex digits') });
const protobuf = 'application/x-protobuf';
// An empty response (all spans taken) is zero bytes in protobuf; made once.
const acceptedInProtobuf = Buffer.from(toBinary(ExportTraceServiceResponseSchema, create(ExportTraceServiceResponseSchema)));

const searchQuery = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(20),
  kind: z.enum(['user', 'background']).optional(),
  service: z.string().max(64).optional(),
  q: z.string().max(200).optional(),
  errors: z.enum(['true', 'false']).optional(),
  minMs: z.coerce.number().min(0).optional(),
});

function invalid(error: z.ZodError): KitError {
  return new KitError(Code.InvalidArgument, 'the request is not valid', {
    fields: error.issues.map((issue) => ({ field: issue.path.join('.') || 'body', message: issue.message })),
  });
}

/**
 * A trace view that needs nothing installed: an OTLP/HTTP receiver (protobuf or JSON) for the spans of
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
export async function startTraceCollector({ host = '127.0.0.1', port = 0, ...storeOptions }: TraceCollectorOptions = {}): Promise<TraceCollector> {
  const app = Fastify({ bodyLimit: 16 * 1024 * 1024, forceCloseConnections: true });
  installErrorHandling(app);
  const store = registerTraceCollector(app, createTraceStore(storeOptions));
  const url = await app.listen({ host, port });
  return { url, store, close: () => app.close() };
}

/**
 * The collector's routes on an app of the caller's (the runner's console serves them beside its
 * own): `POST /v1/traces` (OTLP/HTTP, in JSON, the services' default, or protobuf,
 * OpenTelemetry's; answered in the encoding it came in), `GET /traces` (a search: `kind`, `service`, `q`, `errors`, `minMs`,
 * `limit`) and `GET /traces/:traceId` (a waterfall).
 */
export function registerTraceCollector(app: FastifyInstance, store: TraceStore): TraceStore {
  app.addContentTypeParser(protobuf, { parseAs: 'buffer', bodyLimit: 16 * 1024 * 1024 }, (_request, body, done) => done(null, body));
  app.post('/v1/traces', { bodyLimit: 16 * 1024 * 1024 }, async (request, reply) => {
    const type = String(request.headers['content-type'] ?? '');
    if (type.startsWith(protobuf)) {
      store.add(spansOfProtobuf(decodeTraceRequest(request.body as Buffer)));
      return reply.code(200).type(protobuf).send(acceptedInProtobuf);
    }
    if (!type.startsWith('application/json')) {
      throw new KitError(Code.InvalidArgument, `only OTLP/HTTP in protobuf (${protobuf}) or JSON (application/json) is accepted here`, { reason: 'unsupported_media_type' });
    }
    const parsed = exportTraceRequestSchema.safeParse(request.body);
    if (!parsed.success) throw invalid(parsed.error);
    store.add(spansOf(parsed.data));
    return reply.code(200).send({ partialSuccess: {} });
  });
  app.get('/traces', async (request) => {
    const parsed = searchQuery.safeParse(request.query);
    if (!parsed.success) throw invalid(parsed.error);
    const { limit, kind, service, q, errors, minMs } = parsed.data;
    return {
      traces: store.search({
        limit, ...(kind ? { kind } : {}), ...(service ? { service } : {}), ...(q ? { text: q } : {}),
        errorsOnly: errors === 'true', ...(minMs === undefined ? {} : { minDurationMs: minMs }),
      }),
    };
  });
  app.get('/traces/:traceId', async (request) => {
    const parsed = traceIdParam.safeParse(request.params);
    if (!parsed.success) throw invalid(parsed.error);
    const waterfall = store.waterfall(parsed.data.traceId);
    if (waterfall === undefined) throw new KitError(Code.NotFound, 'no such trace here (yet, or any more)');
    return waterfall;
  });
  return store;
}
