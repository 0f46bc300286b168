import type { Interceptor } from '@connectrpc/connect';
import { Code, KitError } from '../../errors/index.ts';
import type { Clock, Policy } from '../../resilience/index.ts';
import { createCallSignal, deadlineOf } from '../../resilience/deadline.ts';
import { markRetriesExhausted } from '../../resilience/retries-exhausted.ts';
import { callStateOf } from './call-state.ts';
import { isIdempotentMethod } from './idempotency.ts';

// The interceptors of the kit's gRPC client that act on the call as a whole, outermost first.
// Each is a plain Connect interceptor around one of the kit's resilience policies; they pass the
// signal each policy gives them on to the next layer, so a deadline or an abort reaches the
// attempt however deep it sits. Streams pass through untouched: Baton calls none between services.

/**
 * The call's one deadline: the caller's (read from the signal it passed), cut to the client's
 * `timeoutMs`. The signal it passes on fires then, carries the deadline for the retry layer and
 * the attempt's `grpc-timeout`, and its reason is a KitError. Whatever ends the call after this
 * client retried is marked retries-exhausted, so the layers above do not retry it again.
 */
export function createCallDeadlineInterceptor({ clock }: { clock: Clock }): Interceptor {
  return (next) => async function withCallDeadline(req) {
    if (req.stream) return next(req);
    const call = callStateOf(req.contextValues);
    const ownAtMs = clock.now() + call.timeoutMs;
    call.deadlineAtMs = Math.min(ownAtMs, deadlineOf(call.callerSignal) ?? ownAtMs);
    const callSignal = createCallSignal(call.deadlineAtMs, {
      clock,
      parent: req.signal,
      reason: () => new KitError(Code.DeadlineExceeded, 'a dependency did not answer in time', { reason: 'timeout' }),
    });
    const { signal } = callSignal;
    try {
      return await next({ ...req, signal });
    } catch (thrown) {
      // A KitError says why (the retry layer reports the failure it was waiting out, not the
      // deadline that ended the wait); anything else after the caller's own end (its abort or
      // its deadline, as Connect reports it) is that end.
      const error = thrown instanceof KitError ? thrown : signal.aborted ? KitError.from(signal.reason) : KitError.from(thrown);
      throw call.attempts > 1 ? markRetriesExhausted(error) : error;
    } finally {
      callSignal.dispose();
    }
  };
}

/** At most `maxConcurrent` calls to this upstream in flight, a short queue, rejected at once past it. */
export function createBulkheadInterceptor(bulkhead: Policy): Interceptor {
  return (next) => function inBulkhead(req) {
    if (req.stream) return next(req);
    return bulkhead.execute(({ signal }) => next({ ...req, signal }), req.signal);
  };
}

/**
 * Retries by the upstream's failure table: for the methods the contract marks idempotent
 * (`NO_SIDE_EFFECTS`, `IDEMPOTENT`), whatever the table allows (backoff with full jitter, never
 * past the deadline, within the client's retry budget, never for an error an upstream already
 * retried); any other method only when the instance surely never started it (a refused
 * connection, a refused stream, GOAWAY).
 */
export function createRetryInterceptor({ retry, retryUnsent }: { retry: Policy; retryUnsent: Policy }): Interceptor {
  return (next) => function withRetries(req) {
    if (req.stream) return next(req);
    const call = callStateOf(req.contextValues);
    const policy = isIdempotentMethod(req.method) ? retry : retryUnsent;
    return policy.execute(({ signal, attempt }) => {
      call.attempts = Math.max(call.attempts, attempt);
      return next({ ...req, signal });
    }, req.signal);
  };
}
