import { Code as ConnectCode, ConnectError, type Interceptor } from '@connectrpc/connect';
import { Code, KitError } from '../../errors/index.ts';
import { attachDeadline, effectiveBudgetMs } from '../../resilience/deadline.ts';
import { requestedBudgetMs } from '../grpc-timeout.ts';

export interface RpcDeadlineOptions {
  /** The budget of a call that sends none, and the cap on a caller's longer one (`REQUEST_DEADLINE_MS`). */
  defaultDeadlineMs: number;
  /** This service's name, the `hop` an expired deadline names. */
  service: string;
  /**
   * How long after the deadline a handler that ignored its signal may still answer before the
   * server answers DEADLINE_EXCEEDED for it. A safety net: the kit's own I/O stops at the signal.
   */
  answerGraceMs?: number;
}

/**
 * The gRPC twin of the HTTP server's inbound deadline: every call gets a deadline, the budget
 * the caller sent in `grpc-timeout` (or `connect-timeout-ms`) capped by the server's own
 * maximum, and one signal that fires at that deadline or when the caller goes away (it cancels
 * the stream, or its connection drops), with a KitError as its reason. The handler receives it
 * as `context.signal`, with the deadline attached (`remainingMsOf`), so the database query it
 * passes it to is cancelled and a kit client sends on what remains. A budget already spent on
 * arrival is answered at once, DEADLINE_EXCEEDED with reason `deadline_spent`, and no work is
 * done. Connect's own `maxTimeoutMs` is not used: it refuses a longer budget, where Baton cuts it.
 */
export function createRpcDeadlineInterceptor({ defaultDeadlineMs, service, answerGraceMs = 50 }: RpcDeadlineOptions): Interceptor {
  return (next) => async function withDeadline(req) {
    // A stream (the health Watch) lives as long as its caller wants it; only its own signal ends it.
    if (req.stream) return next(req);
    const budgetMs = effectiveBudgetMs(requestedBudgetMs(req.header), defaultDeadlineMs);
    if (budgetMs <= 0) {
      throw new KitError(Code.DeadlineExceeded, 'the deadline had passed before the request arrived', { reason: 'deadline_spent', details: { hop: service } });
    }
    const controller = new AbortController();
    const expired = () => new KitError(Code.DeadlineExceeded, 'the request ran out of time', { details: { hop: service } });
    let safetyNet: NodeJS.Timeout | undefined;
    let answerFor: ((error: KitError) => void) | undefined;
    const timer = setTimeout(() => {
      const error = expired();
      controller.abort(error);
      safetyNet = setTimeout(() => answerFor?.(error), answerGraceMs);
    }, budgetMs);
    // Connect's signal fires when the caller cancels or its connection goes, and at the end of
    // the call; only the first two matter while the handler runs.
    const callerSignal = req.signal;
    const onCallerGone = () => {
      if (controller.signal.aborted) return;
      const reason: unknown = callerSignal.reason;
      const deadline = reason instanceof ConnectError && reason.code === ConnectCode.DeadlineExceeded;
      controller.abort(deadline ? expired() : new KitError(Code.Canceled, 'the caller went away'));
    };
    callerSignal.addEventListener('abort', onCallerGone, { once: true });
    if (callerSignal.aborted) onCallerGone();
    attachDeadline(controller.signal, performance.now() + budgetMs);
    try {
      return await new Promise<Awaited<ReturnType<typeof next>>>((resolve, reject) => {
        answerFor = reject;
        next({ ...req, signal: controller.signal }).then(resolve, reject);
      });
    } finally {
      clearTimeout(timer);
      clearTimeout(safetyNet);
      callerSignal.removeEventListener('abort', onCallerGone);
    }
  };
}
