import { ROOT_CONTEXT, SpanKind, type Context, type Link, SpanStatusCode, propagation, trace, type Span, type Tracer } from '@opentelemetry/api';
import {
  ATTR_ERROR_TYPE, ATTR_HTTP_REQUEST_METHOD, ATTR_HTTP_RESPONSE_STATUS_CODE, ATTR_HTTP_ROUTE, ATTR_SERVER_PORT,
  ATTR_URL_PATH, ATTR_URL_SCHEME, ATTR_USER_AGENT_ORIGINAL,
} from '@opentelemetry/semantic-conventions';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { isPropagatingTracer } from '../telemetry/tracing/propagating-tracer.ts';

// Headers are read the way the W3C propagator expects: one string per name.
const headerGetter = {
  keys: (carrier: FastifyRequest['headers']) => Object.keys(carrier),
  get: (carrier: FastifyRequest['headers'], key: string) => carrier[key],
};

export interface RequestTracingOptions {
  /** The port the service listens on, read once it does. */
  port: () => number;
  /**
   * Whether the caller's `traceparent` and `baggage` are taken (true between services). A public
   * entry sets false: a request from the internet starts a trace of its own, so nobody outside
   * can choose which traces are sampled, join their requests to another's trace, or plant
   * baggage the services behind would carry on; the trace it sent is kept as a span link only.
   */
  trustInboundContext?: boolean;
}

/** The span of one inbound request and the context the rest of the request runs in. */
export interface RequestSpan {
  span: Span;
  active: Context;
}

export interface RequestTracing {
  /** The request's SERVER span, or undefined for a route that is not traced (health, metrics). */
  begin(request: FastifyRequest, reply: FastifyReply, route: string | undefined): RequestSpan | undefined;
  /** Ends the span once the answer was handed to the socket, or the caller went away first. */
  end(span: Span, reply: FastifyReply): void;
}

/**
 * A SERVER span per inbound request, continuing the caller's trace from `traceparent` (and its
 * `baggage`) when the caller is trusted (see {@link RequestTracingOptions}), named and described
 * after the HTTP semantic conventions. The request lifecycle (`request-lifecycle.ts`) begins it
 * and ends it; the rest of the request (hooks, handler, the calls and queries it makes) runs with
 * the span active, so their spans are its children and their log lines carry its trace id.
 * Health and metrics scrapes are not traced: they would bury the traces that matter.
 */
export function createRequestTracing(tracer: Tracer, { port, trustInboundContext = true }: RequestTracingOptions): RequestTracing {
  // Read once it is known (the server listens after the routes are made), not per request.
  let serverPort: number | undefined;
  // With no exporter, a span only carries the trace's ids on: its name and attributes, built for
  // every request, would go nowhere.
  const recordsNothing = isPropagatingTracer(tracer);
  return {
    begin(request, reply, route) {
      if (route === '/healthz' || route === '/readyz' || route === '/metrics') return undefined;
      const inbound = propagation.extract(ROOT_CONTEXT, request.headers, headerGetter);
      const parent = trustInboundContext ? inbound : ROOT_CONTEXT;
      if (recordsNothing) return answerWithTrace(reply, tracer.startSpan('', undefined, parent), parent);
      const inboundSpan = trace.getSpanContext(inbound);
      const links: Link[] = !trustInboundContext && inboundSpan !== undefined && trace.isSpanContextValid(inboundSpan) ? [{ context: inboundSpan }] : [];
      serverPort ??= port();
      const span = tracer.startSpan(route === undefined ? request.method : `${request.method} ${route}`, {
        kind: SpanKind.SERVER,
        attributes: {
          [ATTR_HTTP_REQUEST_METHOD]: request.method,
          [ATTR_URL_PATH]: request.url.split('?')[0] ?? '/',
          [ATTR_URL_SCHEME]: 'http',
          [ATTR_SERVER_PORT]: serverPort,
          ...(route === undefined ? {} : { [ATTR_HTTP_ROUTE]: route }),
          ...(request.headers['user-agent'] === undefined ? {} : { [ATTR_USER_AGENT_ORIGINAL]: request.headers['user-agent'] }),
        },
        links,
      }, parent);
      return answerWithTrace(reply, span, parent);
    },
    end(span, reply) {
      if (!span.isRecording()) {
        span.end();
        return;
      }
      const status = reply.raw.statusCode;
      span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, status);
      if (!reply.raw.writableFinished) {
        span.setAttribute(ATTR_ERROR_TYPE, 'caller_gone');
        span.setStatus({ code: SpanStatusCode.ERROR, message: 'the caller went away before the answer' });
      } else if (status >= 500) {
        span.setAttribute(ATTR_ERROR_TYPE, String(status));
        span.setStatus({ code: SpanStatusCode.ERROR });
      }
      span.end();
    },
  };
}

// W3C Trace Context level 2: the caller learns the trace id of its request, to look it up.
function answerWithTrace(reply: FastifyReply, span: Span, parent: Context): RequestSpan {
  const spanContext = span.spanContext();
  if (trace.isSpanContextValid(spanContext)) reply.header('traceresponse', `00-${spanContext.traceId}-${spanContext.spanId}-0${spanContext.traceFlags.toString(16)}`);
  return { span, active: trace.setSpan(parent, span) };
}
