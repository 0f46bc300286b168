import type { Context, Span } from '@opentelemetry/api';
import type { FastifyInstance, FastifyRequest } from 'fastify';

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

// On the request itself, under a symbol of the kit's own, not in a WeakMap keyed by the request:
// a WeakMap's get and set were the kit's largest self time on the server's path
// (`bench/profile/server-overhead.ts` with `--cpu-prof`, 1.6% of the process), and every
// collection walks a WeakMap's entries again to see which keys still live.
const stateKey = Symbol('baton.requestState');

declare module 'fastify' {
  interface FastifyRequest {
    [stateKey]?: RequestState | undefined;
  }
}

/**
 * Declares the state's place on every request of `app` (Fastify's way for what a hook sets on a
 * request: each is made with the property, so its shape does not change halfway through).
 */
export function declareRequestState(app: FastifyInstance): void {
  app.decorateRequest(stateKey, undefined);
}

/** The state of a request the lifecycle has begun, made on first use. */
export function stateOf(request: FastifyRequest): RequestState {
  let state = request[stateKey];
  if (state === undefined) {
    state = { signal: undefined, span: undefined, context: undefined };
    request[stateKey] = state;
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
  return request[stateKey]?.signal ?? request.signal;
}

/** The trace context a request's handler runs in, once the lifecycle began its span. */
export function activeContextOf(request: FastifyRequest): Context | undefined {
  return request[stateKey]?.context;
}
