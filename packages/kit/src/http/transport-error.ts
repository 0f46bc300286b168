import { Code, KitError } from '../errors/index.ts';
import { UpstreamError } from './upstream-error.ts';

/** How an attempt failed without an HTTP answer. */
export type TransportFailure = 'aborted' | 'transport';

// undici's own error codes (lib/core/errors.js) that mean "this request was never going to
// work": a bug in how the request was built, not the network.
const programmingErrors: ReadonlySet<string> = new Set(['UND_ERR_INVALID_ARG', 'UND_ERR_INVALID_RETURN_VALUE', 'UND_ERR_NOT_SUPPORTED', 'UND_ERR_HEADERS_OVERFLOW']);
const slowUpstream: ReadonlySet<string> = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

/**
 * Normalises what undici threw (or what an abort left behind) into a KitError. The signal is
 * asked first: once it fired, whatever undici threw is only a consequence, and the signal's
 * reason says whether the caller's deadline passed (`deadline_exceeded`) or it went away
 * (`canceled`). Everything else that failed on the way (refused, reset, socket closed, DNS)
 * is `unavailable`: the upstream could not be reached, which a retry on another instance may
 * fix. The message is the same for all of them; the details are in the cause.
 *
 * @example
 * catch (thrown) { const { error, failure } = errorFromTransport(thrown, signal, 'catalog', origin); }
 */
export function errorFromTransport(thrown: unknown, signal: AbortSignal, upstream: string, instance: string): { error: KitError; failure: TransportFailure } {
  if (signal.aborted) return { error: KitError.from(signal.reason), failure: 'aborted' };
  if (thrown instanceof KitError) return { error: thrown, failure: 'transport' };
  const code = (thrown as { code?: unknown } | null)?.code;
  const cause = new UpstreamError(upstream, instance, typeof code === 'string' ? code : 'transport error', { cause: thrown });
  if (typeof code === 'string' && programmingErrors.has(code)) {
    return { error: new KitError(Code.Internal, 'internal error', { cause }), failure: 'transport' };
  }
  if (typeof code === 'string' && slowUpstream.has(code)) {
    return { error: new KitError(Code.DeadlineExceeded, 'a dependency did not answer in time', { reason: 'timeout', cause }), failure: 'transport' };
  }
  return { error: new KitError(Code.Unavailable, 'a dependency could not be reached', { reason: 'connection_error', cause }), failure: 'transport' };
}
