import { AsyncResource } from 'node:async_hooks';

// Made when the module loads, at a service's start, outside any request.
const outsideAnyRequest = new AsyncResource('baton.detached-timer');

/**
 * An unref'd timer that carries no request's async context. A timer keeps the context it was
 * started in (the request's trace context, its span, every AsyncLocalStorage store) until it
 * fires or is cleared; a cache's timer started while verifying a request's token would keep
 * that request's context for the token's whole life (minutes), one per token remembered.
 *
 * @example
 * entry.timer = detachedTimeout(() => forget(key), remainingMs);
 */
export function detachedTimeout(then: () => void, delayMs: number): NodeJS.Timeout {
  return outsideAnyRequest.runInAsyncScope(() => setTimeout(then, delayMs).unref());
}
