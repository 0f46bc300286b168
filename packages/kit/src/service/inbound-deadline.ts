import { Code, KitError } from '../errors/index.ts';
import { attachDeadline, createFanOutController, effectiveBudgetMs } from '../resilience/deadline.ts';

export interface InboundDeadlineOptions {
  /** The budget the caller sent, already parsed; undefined when it sent none (or garbage). */
  receivedMs: number | undefined;
  /** The longest this request may take here: the budget when the caller sent none, the cap on a longer one. */
  maxMs: number;
  /** This service's name, the `hop` an expired deadline names. */
  service: string;
  /**
   * How long after the deadline a handler that ignored its signal may still answer before
   * `onOverdue` answers for it. A safety net: the kit's own I/O stops at the signal.
   */
  answerGraceMs?: number;
  /** Called `answerGraceMs` after the deadline, unless `end()` came first: answer `error` for the handler. */
  onOverdue(error: KitError): void;
}

export interface InboundDeadline {
  /** Fires at the deadline or when the caller goes away, with a KitError as its reason; the deadline is attached. */
  readonly signal: AbortSignal;
  /**
   * The caller went away (disconnected, cancelled): the work stops with `canceled`, or with
   * `deadline_exceeded` when the transport says the caller's own deadline is what ended it.
   * Does nothing once the signal has fired.
   */
  callerGone(options?: { deadline?: boolean }): void;
  /** The answer is done: the deadline's timers stop. */
  end(): void;
}

/**
 * One request's deadline, whatever carried it: the caller's budget capped by `maxMs`, and one
 * signal that fires at that deadline or when the caller goes away. A budget already spent on
 * arrival throws at once (`deadline_exceeded`, reason `deadline_spent`), before any work. The
 * transports are thin adapters over it: the HTTP server reads `x-baton-timeout-ms`
 * (`http-deadline.ts`), the gRPC server `grpc-timeout` (`rpc/server/rpc-deadline.ts`).
 *
 * @example
 * const deadline = startInboundDeadline({ receivedMs: parseBudget(header), maxMs: 10_000, service: 'orders',
 *   onOverdue: (error) => answer(error) });
 * try { await handle({ signal: deadline.signal }); } finally { deadline.end(); }
 */
export function startInboundDeadline({ receivedMs, maxMs, service, answerGraceMs = 50, onOverdue }: InboundDeadlineOptions): InboundDeadline {
  const budgetMs = effectiveBudgetMs(receivedMs, maxMs);
  if (budgetMs <= 0) {
    throw new KitError(Code.DeadlineExceeded, 'the deadline had passed before the request arrived', { reason: 'deadline_spent', details: { hop: service } });
  }
  // Aborted only here, so the calls made under it hear it without a listener each (whenAborted).
  const controller = createFanOutController();
  const expired = () => new KitError(Code.DeadlineExceeded, 'the request ran out of time', { details: { hop: service } });
  let safetyNet: NodeJS.Timeout | undefined;
  const timer = setTimeout(function onDeadline() {
    const error = expired();
    controller.abort(error);
    // Never hang: if the handler did not stop at its signal, the transport answers for it.
    safetyNet = setTimeout(() => onOverdue(error), answerGraceMs);
  }, budgetMs);
  attachDeadline(controller.signal, performance.now() + budgetMs);
  return {
    signal: controller.signal,
    callerGone({ deadline = false } = {}) {
      if (controller.signal.aborted) return;
      controller.abort(deadline ? expired() : new KitError(Code.Canceled, 'the caller went away'));
    },
    end() {
      clearTimeout(timer);
      clearTimeout(safetyNet);
    },
  };
}
