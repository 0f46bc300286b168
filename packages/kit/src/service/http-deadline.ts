import type { FastifyInstance } from 'fastify';
import { parseBudget, timeoutHeader } from '../resilience/deadline.ts';
import { startInboundDeadline, type InboundDeadline } from './inbound-deadline.ts';
import { setRequestSignal } from './request-signal.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** This route's own maximum budget: a caller's longer budget is cut to it. */
    deadlineMs?: number;
  }
}

export interface HttpDeadlineOptions {
  /** The budget of a route that sets none, and the cap for callers that send a longer one. */
  defaultDeadlineMs: number;
  service: string;
  /** How long after the deadline a handler that ignored its signal may still answer before the server answers 504. */
  answerGraceMs?: number;
}

/**
 * The HTTP side of the inbound deadline (`inbound-deadline.ts`): the budget is what the caller
 * sent in `x-baton-timeout-ms`, capped by the route's own maximum (`config.deadlineMs`). A spent
 * budget is a 504 with no work; handlers read the signal with `signalOf(request)`, and the
 * response's socket closing before the response finished means the caller left.
 */
export function installHttpDeadline(app: FastifyInstance, { defaultDeadlineMs, service, answerGraceMs }: HttpDeadlineOptions): void {
  app.addHook('onRequest', function startDeadline(request, reply, done) {
    let deadline: InboundDeadline;
    try {
      deadline = startInboundDeadline({
        receivedMs: parseBudget(request.headers[timeoutHeader]),
        maxMs: request.routeOptions.config.deadlineMs ?? defaultDeadlineMs,
        service,
        ...(answerGraceMs === undefined ? {} : { answerGraceMs }),
        onOverdue(error) {
          if (reply.sent || reply.raw.headersSent) return;
          request.log.warn('handler ignored its deadline; answering 504 for it');
          reply.send(error);
        },
      });
    } catch (error) {
      done(error as Error);
      return;
    }
    reply.raw.once('close', function onResponseClosed() {
      deadline.end();
      if (!reply.raw.writableFinished) deadline.callerGone();
    });
    setRequestSignal(request, deadline.signal);
    done();
  });
}
