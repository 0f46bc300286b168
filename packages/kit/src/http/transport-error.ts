import { KitError } from '../errors/index.ts';
import { describeSystemError, failureError, failureKindOfSystemError } from '../upstream/failures.ts';
import { UpstreamError } from '../upstream/upstream-error.ts';

/** How an attempt failed without an HTTP answer. */
export type TransportFailure = 'aborted' | 'transport';

/**
 * Normalises what undici threw (or what an abort left behind) into a KitError. The signal is
 * asked first: once it fired, whatever undici threw is only a consequence, and the signal's
 * reason says whether the caller's deadline passed (`deadline_exceeded`) or it went away
 * (`canceled`). Everything else goes through the upstream's failure table (refused, reset,
 * a timeout of undici's own, a request undici could never send), which gives the code, the
 * reason and whether another try may be made; the details are in the cause.
 *
 * @example
 * catch (thrown) { const { error, failure } = errorFromTransport(thrown, signal, 'catalog', origin); }
 */
export function errorFromTransport(thrown: unknown, signal: AbortSignal, upstream: string, instance: string): { error: KitError; failure: TransportFailure } {
  if (signal.aborted) return { error: KitError.from(signal.reason), failure: 'aborted' };
  if (thrown instanceof KitError) return { error: thrown, failure: 'transport' };
  const cause = new UpstreamError(upstream, instance, describeSystemError(thrown), { cause: thrown });
  return { error: failureError(failureKindOfSystemError(thrown), cause), failure: 'transport' };
}
