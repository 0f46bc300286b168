import { Code as ConnectCode, ConnectError, type Interceptor } from '@connectrpc/connect';
import type { KitError } from '../../errors/index.ts';
import { startInboundDeadline } from '../../service/inbound-deadline.ts';
import { requestedBudgetMs } from '../grpc-timeout.ts';

export interface RpcDeadlineOptions {
  /** The budget of a call that sends none, and the cap on a caller's longer one (`REQUEST_DEADLINE_MS`). */
  defaultDeadlineMs: number;
  /** This service's name, the `hop` an expired deadline names. */
  service: string;
  /** How long after the deadline a handler that ignored its signal may still answer before the server answers DEADLINE_EXCEEDED. */
  answerGraceMs?: number;
}

/**
 * The gRPC side of the inbound deadline (`service/inbound-deadline.ts`): the budget is what the
 * caller sent in `grpc-timeout` (or `connect-timeout-ms`), capped by the server's own maximum,
 * and the caller goes away when it cancels the stream or its connection drops. The handler
 * receives the signal as `context.signal`. A spent budget is DEADLINE_EXCEEDED with reason
 * `deadline_spent` and no work. Connect's own `maxTimeoutMs` is not used: it refuses a longer
 * budget, where Baton cuts it.
 */
export function createRpcDeadlineInterceptor({ defaultDeadlineMs, service, answerGraceMs }: RpcDeadlineOptions): Interceptor {
  return (next) => async function withDeadline(req) {
    // A stream (the health Watch) lives as long as its caller wants it; only its own signal ends it.
    if (req.stream) return next(req);
    let answerFor: ((error: KitError) => void) | undefined;
    const deadline = startInboundDeadline({
      receivedMs: requestedBudgetMs(req.header),
      maxMs: defaultDeadlineMs,
      service,
      ...(answerGraceMs === undefined ? {} : { answerGraceMs }),
      onOverdue: (error) => answerFor?.(error),
    });
    // Connect's signal fires when the caller cancels or its connection goes, and at the end of
    // the call; only the first two matter while the handler runs.
    const callerSignal = req.signal;
    const onCallerGone = () => {
      const reason: unknown = callerSignal.reason;
      deadline.callerGone({ deadline: reason instanceof ConnectError && reason.code === ConnectCode.DeadlineExceeded });
    };
    callerSignal.addEventListener('abort', onCallerGone, { once: true });
    if (callerSignal.aborted) onCallerGone();
    try {
      return await new Promise<Awaited<ReturnType<typeof next>>>((resolve, reject) => {
        answerFor = reject;
        next({ ...req, signal: deadline.signal }).then(resolve, reject);
      });
    } finally {
      deadline.end();
      callerSignal.removeEventListener('abort', onCallerGone);
    }
  };
}
