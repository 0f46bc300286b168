import type { FastifyInstance } from 'fastify';
import { Code, KitError } from '../errors/index.ts';
import { attachDeadline, effectiveBudgetMs, parseBudget, timeoutHeader } from '../resilience/deadline.ts';
import { setRequestSignal } from './request-signal.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** This route's own maximum budget: a caller's longer budget is cut to it. */
    deadlineMs?: number;
  }
}

export interface InboundDeadlineOptions {
  /** The budget of a route that sets none, and the cap for callers that send a longer one. */
  defaultDeadlineMs: number;
  service: string;
  /**
   * How long after the deadline a handler that ignored its signal may still answer before the
   * server answers 504 for it. A safety net: the kit's own I/O stops at the signal.
   */
  answerGraceMs?: number;
}

/**
 * Gives every request a deadline and one signal that fires at that deadline or when the caller
 * disconnects, whichever comes first. The budget is what the caller sent in
 * `x-baton-timeout-ms`, capped by the route's own maximum; a budget already spent on arrival
 * is answered at once with 504 and no work. Handlers read the signal with `signalOf(request)`
 * and the kit's clients send what remains of it to the next hop.
 */
export function installInboundDeadline(app: FastifyInstance, { defaultDeadlineMs, service, answerGraceMs = 50 }: InboundDeadlineOptions): void {
  app.addHook('onRequest', function startDeadline(request, reply, done) {
    const routeMaxMs = request.routeOptions.config.deadlineMs ?? defaultDeadlineMs;
    const budgetMs = effectiveBudgetMs(parseBudget(request.headers[timeoutHeader]), routeMaxMs);
    if (budgetMs <= 0) {
      done(new KitError(Code.DeadlineExceeded, 'the deadline had passed before the request arrived', {
        reason: 'deadline_spent', details: { hop: service },
      }));
      return;
    }

    const controller = new AbortController();
    let safetyNet: NodeJS.Timeout | undefined;
    const timer = setTimeout(() => {
      const expired = new KitError(Code.DeadlineExceeded, 'the request ran out of time', { details: { hop: service } });
      controller.abort(expired);
      // Never hang: if the handler did not stop at its signal, answer for it.
      safetyNet = setTimeout(() => {
        if (!reply.sent && !reply.raw.headersSent) {
          request.log.warn('handler ignored its deadline; answering 504 for it');
          reply.send(expired);
        }
      }, answerGraceMs);
    }, budgetMs);
    // The response's socket closing before the response finished means the caller left:
    // nobody waits for the answer, so the work stops.
    const onClose = () => {
      clearTimeout(timer);
      clearTimeout(safetyNet);
      if (!reply.raw.writableFinished && !controller.signal.aborted) {
        controller.abort(new KitError(Code.Canceled, 'the caller went away'));
      }
    };
    reply.raw.once('close', onClose);
    attachDeadline(controller.signal, performance.now() + budgetMs);
    setRequestSignal(request, controller.signal);
    done();
  });
}
