import { ROOT_CONTEXT, SpanKind, type Context, type Link, SpanStatusCode, context, propagation, trace, type Span, type Tracer } from '@opentelemetry/api';
import {
  ATTR_ERROR_TYPE, ATTR_HTTP_REQUEST_METHOD, ATTR_HTTP_RESPONSE_STATUS_CODE, ATTR_HTTP_ROUTE, ATTR_SERVER_PORT,
  ATTR_URL_PATH, ATTR_URL_SCHEME, ATTR_USER_AGENT_ORIGINAL,
} from '@opentelemetry/semantic-conventions';
import type { FastifyInstance, FastifyRequest } from 'fastify';

const spans = new WeakMap<FastifyRequest, Span>();

/** The span of an inbound request, to add attributes or events to it. */
export function spanOf(request: FastifyRequest): Span | undefined {
  return spans.get(request);
}

// Headers are read the way the W3C propagator expects: one string per name.
const headerGetter = {
  keys: (carrier: FastifyRequest['headers']) => Object.keys(carrier),
  get: (carrier: FastifyRequest['headers'], key: string) => carrier[key],
};

export interface RequestTracingOptions {
  port: () => number;
  /**
   * Whether the caller's `traceparent` and `baggage` are taken (true between services). A public
   * entry sets false: a request from the internet starts a trace of its own, so nobody outside
   * can choose which traces are sampled, join their requests to another's trace, or plant
   * baggage the services behind would carry on; the trace it sent is kept as a span link only.
   */
  trustInboundContext?: boolean;
}

/**
 * A SERVER span per inbound request, continuing the caller's trace from `traceparent` (and its
 * `baggage`) when the caller is trusted (see {@link RequestTracingOptions}), named and described
 * after the HTTP semantic conventions. The rest of the request
 * (hooks, handler, the calls and queries it makes) runs with the span active, so their spans
 * are its children and their log lines carry its trace id. Health and metrics scrapes are not
 * traced: they would bury the traces that matter.
 */
export function installRequestTracing(app: FastifyInstance, tracer: Tracer, { port, trustInboundContext = true }: RequestTracingOptions): void {
  app.addHook('onRequest', function startRequestSpan(request, reply, done) {
    const route = request.routeOptions.url;
    if (route === '/healthz' || route === '/readyz' || route === '/metrics') {
      done();
      return;
    }
    const inbound = propagation.extract(ROOT_CONTEXT, request.headers, headerGetter);
    const parent = trustInboundContext ? inbound : ROOT_CONTEXT;
    const inboundSpan = trace.getSpanContext(inbound);
    const links: Link[] = !trustInboundContext && inboundSpan !== undefined && trace.isSpanContextValid(inboundSpan) ? [{ context: inboundSpan }] : [];
    const span = tracer.startSpan(route === undefined ? request.method : `${request.method} ${route}`, {
      kind: SpanKind.SERVER,
      attributes: {
        [ATTR_HTTP_REQUEST_METHOD]: request.method,
        [ATTR_URL_PATH]: request.url.split('?')[0] ?? '/',
        [ATTR_URL_SCHEME]: 'http',
        [ATTR_SERVER_PORT]: port(),
        ...(route === undefined ? {} : { [ATTR_HTTP_ROUTE]: route }),
        ...(request.headers['user-agent'] === undefined ? {} : { [ATTR_USER_AGENT_ORIGINAL]: request.headers['user-agent'] }),
      },
      links,
    }, parent);
    spans.set(request, span);
    // W3C Trace Context level 2: the caller learns the trace id of its request, to look it up.
    const { traceId, spanId, traceFlags } = span.spanContext();
    if (trace.isSpanContextValid(span.spanContext())) reply.header('traceresponse', `00-${traceId}-${spanId}-0${traceFlags.toString(16)}`);
    // Ended when the answer has been handed to the socket, or when the caller went away first.
    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
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
    };
    reply.raw.once('finish', end);
    reply.raw.once('close', end);
    const active = trace.setSpan(parent, span);
    contexts.set(request, active);
    // The body arrives, and the answer finishes, in socket callbacks that know nothing of the
    // span; bound, the listeners Fastify adds from here on (body parsing, onResponse) run in it.
    context.bind(active, request.raw);
    context.bind(active, reply.raw);
    context.with(active, done);
  });
  // The handler runs from here, after the body was parsed: in the request's context for sure.
  app.addHook('preHandler', function enterRequestSpan(request, _reply, done) {
    const active = contexts.get(request);
    if (active === undefined) done();
    else context.with(active, done);
  });
}

const contexts = new WeakMap<FastifyRequest, Context>();
