import { ROOT_CONTEXT, SpanKind, SpanStatusCode, context, propagation, trace, type Tracer } from '@opentelemetry/api';
import { ATTR_ERROR_TYPE, ATTR_RPC_METHOD, ATTR_SERVER_ADDRESS, ATTR_SERVER_PORT } from '@opentelemetry/semantic-conventions';
import type { Interceptor } from '@connectrpc/connect';
import type { KitError } from '../errors/index.ts';
import { grpcStatusOf } from '../errors/grpc-status.ts';
import {
  ATTR_BATON_DEADLINE_MS, ATTR_BATON_ERROR_CODE, ATTR_BATON_UPSTREAM, ATTR_RPC_RESPONSE_STATUS_CODE, ATTR_RPC_SERVICE, ATTR_RPC_SYSTEM,
} from '../telemetry/tracing/attributes.ts';

// gRPC metadata travels as HTTP/2 headers; the W3C propagator reads and writes them as such.
const headersGetter = {
  keys: (carrier: Headers) => [...carrier.keys()],
  get: (carrier: Headers, key: string) => carrier.get(key) ?? undefined,
};
const headersSetter = { set: (carrier: Headers, key: string, value: string) => carrier.set(key, value) };

export interface RpcAttemptSpan {
  end(error: KitError | undefined): void;
}

const noSpan: RpcAttemptSpan = { end: () => undefined };

/**
 * A CLIENT span for one attempt of a gRPC call, after the RPC conventions (`rpc.system` grpc,
 * `rpc.service`, `rpc.method`), with `traceparent` put in the attempt's metadata so the server's
 * span is its child.
 */
export function startRpcAttemptSpan(tracer: Tracer | undefined, attempt: {
  upstream: string; instance: string; service: string; method: string; header: Headers; remainingMs: number;
}): RpcAttemptSpan {
  if (tracer === undefined) return noSpan;
  const span = tracer.startSpan(`${attempt.service}/${attempt.method}`, { kind: SpanKind.CLIENT });
  // Described only when someone records it, as an HTTP attempt's (attempt-span.ts): when nothing
  // listens, the span only carries the context on, and the URL and attributes were about 1% of orders'
  // profile samples under checkout load (bench/profile/folded-shares.ts), for nothing.
  if (span.isRecording()) {
    const url = new URL(attempt.instance);
    span.setAttributes({
      [ATTR_RPC_SYSTEM]: 'grpc',
      [ATTR_RPC_SERVICE]: attempt.service,
      [ATTR_RPC_METHOD]: attempt.method,
      [ATTR_SERVER_ADDRESS]: url.hostname,
      [ATTR_SERVER_PORT]: Number(url.port || 80),
      [ATTR_BATON_UPSTREAM]: attempt.upstream,
      [ATTR_BATON_DEADLINE_MS]: Math.round(attempt.remainingMs),
    });
  }
  propagation.inject(trace.setSpan(context.active(), span), attempt.header, headersSetter);
  return {
    end(error) {
      span.setAttribute(ATTR_RPC_RESPONSE_STATUS_CODE, error === undefined ? 'OK' : grpcStatusName(error));
      if (error !== undefined) {
        span.setAttribute(ATTR_ERROR_TYPE, error.code);
        span.setAttribute(ATTR_BATON_ERROR_CODE, error.code);
        span.setStatus({ code: SpanStatusCode.ERROR, message: error.reason ?? error.code });
      }
      span.end();
    },
  };
}

// The gRPC status names the conventions ask for, by number.
const statusNames = ['OK', 'CANCELLED', 'UNKNOWN', 'INVALID_ARGUMENT', 'DEADLINE_EXCEEDED', 'NOT_FOUND', 'ALREADY_EXISTS', 'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED', 'FAILED_PRECONDITION', 'ABORTED', 'OUT_OF_RANGE', 'UNIMPLEMENTED', 'INTERNAL', 'UNAVAILABLE', 'DATA_LOSS', 'UNAUTHENTICATED'];

function grpcStatusName(error: KitError): string {
  return statusNames[grpcStatusOf(error.code)] ?? 'UNKNOWN';
}

/**
 * The server's outermost interceptor: a SERVER span per call, continuing the caller's trace
 * from the metadata, with the rest of the call (the kit's interceptors, the handler, its queries
 * and log lines) running in it. Health checks are not traced, as over HTTP.
 */
export function createServerTracingInterceptor(tracer: Tracer): Interceptor {
  return (next) => function traced(req) {
    const service = req.method.parent.typeName;
    if (service === 'grpc.health.v1.Health') return next(req);
    const parent = propagation.extract(ROOT_CONTEXT, req.header, headersGetter);
    const span = tracer.startSpan(`${service}/${req.method.name}`, {
      kind: SpanKind.SERVER,
      attributes: { [ATTR_RPC_SYSTEM]: 'grpc', [ATTR_RPC_SERVICE]: service, [ATTR_RPC_METHOD]: req.method.name },
    }, parent);
    return context.with(trace.setSpan(parent, span), async () => {
      try {
        const response = await next(req);
        span.setAttribute(ATTR_RPC_RESPONSE_STATUS_CODE, 'OK');
        return response;
      } catch (error) {
        const code = (error as { code?: unknown }).code;
        const name = typeof code === 'number' ? statusNames[code] ?? 'UNKNOWN' : 'UNKNOWN';
        span.setAttribute(ATTR_RPC_RESPONSE_STATUS_CODE, name);
        span.setAttribute(ATTR_ERROR_TYPE, name);
        span.setStatus({ code: SpanStatusCode.ERROR });
        throw error;
      } finally {
        span.end();
      }
    });
  };
}
