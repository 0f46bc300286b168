import type { Readable } from 'node:stream';
import { KitError } from '../errors/index.ts';
import { whenAborted } from '../resilience/deadline.ts';
import type { StreamedAnswerReader } from './attempt.ts';
import type { StreamedResponse } from './response.ts';
import { errorFromTransport } from './transport-error.ts';

/**
 * What `stream()` makes of an answer: a 2xx, or a status the caller listed (a 304 or a 416 for an
 * image), is handed on with its body unread; any other status is the error `request()` gives.
 * The attempt then counts as a success for the instance's breaker, its ejection and its latency
 * (the time to the headers), as a JSON answer would.
 *
 * @example
 * const answers = streamedAnswers([304, 416]);
 */
export function streamedAnswers(acceptStatuses: readonly number[]): StreamedAnswerReader<StreamedResponse> {
  return {
    kind: 'stream',
    accepts: (status) => (status >= 200 && status < 300) || acceptStatuses.includes(status),
    read: ({ status, headers, body }) => Promise.resolve({ ok: true, response: { status, headers, body }, status, body }),
  };
}

/**
 * Keeps the call's signal over a body handed to the caller, and lets go of the call when the body
 * is done. If the signal fires first (the call's deadline, the caller's own signal), the body is
 * destroyed with its reason as a KitError, which closes the connection; when the body closes,
 * read to its end or destroyed by anyone, `release` runs once (it disposes the call's timer and
 * its hold on the caller's signal). So the deadline covers the whole body, and nothing of the
 * call outlives it.
 *
 * A signal that already fired is the call's end: the body is destroyed and the reason thrown.
 *
 * @example
 * return underCallSignal(response, callSignal.signal, () => callSignal.dispose());
 */
export function underCallSignal(response: StreamedResponse, signal: AbortSignal, release: () => void): StreamedResponse {
  const { body } = response;
  if (signal.aborted) {
    const reason = KitError.from(signal.reason);
    body.destroy(reason);
    release();
    throw reason;
  }
  const forget = whenAborted(signal, () => body.destroy(KitError.from(signal.reason)));
  body.once('close', () => {
    forget();
    release();
  });
  return response;
}

/**
 * Runs `done` once a handed-on body closes: with no error when it was read to its end, else with
 * why it ended early, as a KitError (for the attempt's span). A body its reader destroyed without
 * a reason ends as undici's AbortError: the reader let go (`canceled`), nothing failed upstream.
 *
 * @example
 * whenBodyDone(body, signal, upstream, instance, (error) => span.end({ status, error }));
 */
export function whenBodyDone(body: Readable, signal: AbortSignal, upstream: string, instance: string, done: (error: KitError | undefined) => void): void {
  body.once('close', () => {
    if (body.readableEnded) return done(undefined);
    const thrown: unknown = body.errored;
    if (thrown instanceof Error && thrown.name === 'AbortError') return done(KitError.from(thrown));
    done(errorFromTransport(thrown, signal, upstream, instance).error);
  });
}
