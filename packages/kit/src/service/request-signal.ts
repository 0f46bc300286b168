import type { FastifyRequest } from 'fastify';

const signals = new WeakMap<FastifyRequest, AbortSignal>();

/**
 * The signal a handler passes to everything it awaits (database, outbound calls): it fires when
 * the caller disconnects or, once the request has a deadline, when the deadline passes.
 *
 * @example
 * app.get('/v1/products', async (request) => listProducts(db, { signal: signalOf(request) }));
 */
export function signalOf(request: FastifyRequest): AbortSignal {
  return signals.get(request) ?? request.signal;
}

/** Used by the deadline layer to give a request a signal that also fires at its deadline. */
export function setRequestSignal(request: FastifyRequest, signal: AbortSignal): void {
  signals.set(request, signal);
}
