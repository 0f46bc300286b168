import type { FastifyReply, FastifyRequest } from 'fastify';
import { parseBudget, timeoutHeader } from '../resilience/deadline.ts';
import { startInboundDeadline, type InboundDeadline } from './inbound-deadline.ts';

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
 * budget throws (a 408 with no work); handlers read the signal with `signalOf(request)`. The
 * request lifecycle (`request-lifecycle.ts`) starts it on arrival and, when the response closes,
 * ends it, telling it the caller left if the response had not finished.
 */
export function startRequestDeadline(request: FastifyRequest, reply: FastifyReply, { defaultDeadlineMs, service, answerGraceMs }: HttpDeadlineOptions, routeDeadlineMs: number | undefined): InboundDeadline {
  return startInboundDeadline({
    receivedMs: parseBudget(request.headers[timeoutHeader]),
    maxMs: routeDeadlineMs ?? defaultDeadlineMs,
    service,
    ...(answerGraceMs === undefined ? {} : { answerGraceMs }),
    onOverdue(error) {
      if (reply.sent || reply.raw.headersSent) return;
      request.log.warn('handler ignored its deadline; answering 504 for it');
      reply.send(error);
    },
  });
}

/** The response has closed: the deadline's timers stop, and a caller that left is told to the work. */
export function endRequestDeadline(deadline: InboundDeadline, { raw }: FastifyReply): void {
  deadline.end();
  if (!raw.writableFinished) deadline.callerGone();
}
