import type { Context, Span } from '@opentelemetry/api';
import type { FastifyRequest } from 'fastify';

/**
 * What the request lifecycle (`request-lifecycle.ts`) keeps for one request while it runs: its
 * deadline's signal, its span and the trace context the handler runs in. One entry per request,
 * set once, read by `signalOf` and by the lifecycle itself.
 */
export interface RequestState {
  signal: AbortSignal | undefined;
  span: Span | undefined;
  context: Context | undefined;
}

const states = new WeakMap<FastifyRequest, RequestState>();

/** The state of a request the lifecycle has begun, made on first use. */
export function stateOf(request: FastifyRequest): RequestState {
  let state = states.get(request);
  if (state === undefined) {
    state = { signal: undefined, span: undefined, context: undefined };
    states.set(request, state);
  }
  return state;
}

/**
 * The signal a handler passes to everything it awaits (database, outbound calls): it fires when
 * the caller disconnects or, once the request has a deadline, when the deadline passes.
 *
 * @example
 * app.get('/v1/products', async (request) => listProducts(db, { signal: signalOf(request) }));
 */
export function signalOf(request: FastifyRequest): AbortSignal {
  return states.get(request)?.signal ?? request.signal;
}

/** The trace context a request's handler runs in, once the lifecycle began its span. */
export function activeContextOf(request: FastifyRequest): Context | undefined {
  return states.get(request)?.context;
}
