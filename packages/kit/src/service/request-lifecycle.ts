import { context } from '@opentelemetry/api';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ServiceTokenVerifier } from '../auth/service-identity/verifier.ts';
import { KitError } from '../errors/index.ts';
import type { HttpServerMetrics } from '../telemetry/metrics.ts';
import { callerOf } from './caller-check.ts';
import { shuttingDown } from './closing-connections.ts';
import { endRequestDeadline, startRequestDeadline, type HttpDeadlineOptions } from './http-deadline.ts';
import { countAnswer, countArrival } from './http-metrics.ts';
import type { InboundDeadline } from './inbound-deadline.ts';
import type { Admission, LoadShedding } from './load-shedding.ts';
import { requestIdHeader } from './request-id.ts';
import { logAnswer } from './request-log.ts';
import { activeContextOf, declareRequestState, stateOf, type RequestState } from './request-signal.ts';
import type { RequestTracing } from './request-tracing.ts';

type RouteOptionsOf = FastifyRequest['routeOptions'];

/** The parts of the lifecycle a server has; each one left out costs nothing per request. */
export interface RequestLifecycleParts {
  /** True once shutdown has begun: a request is then refused with `shutting_down` before anything runs. */
  isClosing?: () => boolean;
  metrics?: HttpServerMetrics;
  shedding?: LoadShedding;
  /** The service-identity check of each route's `config.callers`. */
  callers?: ServiceTokenVerifier;
  tracing?: RequestTracing;
  deadline?: HttpDeadlineOptions;
  /** One line per request once it is answered (`request-log.ts`). */
  log?: boolean;
}

/** What one request holds until its response closes. */
interface Life {
  request: FastifyRequest;
  reply: FastifyReply;
  /** Its route's options, read once: Fastify makes a new object each time they are read. */
  route: RouteOptionsOf;
  startedAt: number;
  admission: Admission | undefined;
  deadline: InboundDeadline | undefined;
  state: RequestState;
}

/**
 * The request lifecycle of a Baton HTTP server: one `onRequest` hook and one `close` listener per
 * request carry its id, the closing refusal, its metrics, its admission (load shedding), its
 * caller's check, its span and its deadline together, begun in that order on arrival and ended
 * together when the response closes (finished, or the caller gone). A hook and a listener per
 * concern, each with its own WeakMap entry, cost a shop's checkout a measurable share of its CPU
 * (issue 18); the order is the behaviour, so it lives here and only here:
 *
 * 1. the request id is echoed on every answer, a refused one included;
 * 2. it is counted and, once answered, logged: every answer below is in the metrics and the log;
 * 3. a request that arrives once the server is closing is refused before anything runs;
 * 4. shedding: a shed request costs nothing of what follows;
 * 5. the caller's credential: a caller without the right one gets nothing else, not even a span;
 * 6. the span, before the deadline, so a 408 for a spent budget is traced;
 * 7. the deadline, whose signal the handler reads with `signalOf(request)`.
 *
 * The handler then runs with the span's context active (a `preHandler` enters it again after the
 * body was read, which happens in socket callbacks that know nothing of it), and so does the
 * answer's log line, written when the response closes (in a socket callback when the caller
 * left first).
 */
export function installRequestLifecycle(app: FastifyInstance, parts: RequestLifecycleParts): void {
  const { isClosing, metrics, shedding, callers, tracing, deadline, log = false } = parts;
  // Declared, so every request is made with the property (Fastify's advice for what a hook sets
  // on a request): added later, it changed each request's hidden class halfway through its hooks.
  if (callers !== undefined) app.decorateRequest('serviceCaller', undefined);
  declareRequestState(app);

  function end(this: Life): void {
    const { request, reply, state } = this;
    if (this.deadline !== undefined) endRequestDeadline(this.deadline, reply);
    if (state.span !== undefined) tracing?.end(state.span, reply);
    this.admission?.release(reply);
    if (metrics !== undefined) countAnswer(metrics, request, reply, this.startedAt, this.route.url);
    if (!log) return;
    // The response may close in a socket callback (the caller left): the request's context is
    // entered for its line, so the line carries the request's trace id.
    if (state.context === undefined) logAnswer(request, reply, this.route.url);
    else context.with(state.context, logAnswer, undefined, request, reply, this.route.url);
  }

  // Steps 6 and 7, once the caller is known to be welcome.
  function proceed(life: Life, done: (error?: Error) => void): void {
    const { request, reply, state, route } = life;
    const traced = tracing?.begin(request, reply, route.url);
    if (traced !== undefined) {
      state.span = traced.span;
      state.context = traced.active;
    }
    if (deadline !== undefined) {
      try {
        life.deadline = startRequestDeadline(request, reply, deadline, route.config.deadlineMs);
      } catch (error) {
        done(error as Error);
        return;
      }
      state.signal = life.deadline.signal;
    }
    if (state.context === undefined) {
      done();
      return;
    }
    // The body arrives, and the answer finishes, in socket callbacks that know nothing of the
    // span. They are not bound to it: OpenTelemetry's `context.bind` on an emitter wraps every
    // listener added to it from then on (2.6 KB of garbage a request; without it a call on
    // loopback costs 8% less CPU, client and server, ~10 µs: bench/README.md). Fastify ends body
    // parsing in the scope it began in (an AsyncResource); what needs the context after a socket
    // callback enters it: the handler (the `preHandler` below) and the answer's line (`end`).
    context.with(state.context, done);
  }

  app.addHook('onRequest', function beginRequest(request, reply, done) {
    reply.header(requestIdHeader, request.id);
    const route = request.routeOptions;
    const life: Life = { request, reply, route, startedAt: performance.now(), admission: undefined, deadline: undefined, state: stateOf(request) };
    reply.raw.once('close', end.bind(life));
    if (metrics !== undefined) countArrival(metrics, request);
    if (isClosing?.() === true) {
      done(shuttingDown());
      return;
    }
    if (shedding !== undefined) {
      life.admission = shedding.admit(route, reply);
      // Shed: answered already, nothing else runs.
      if (life.admission === undefined) return;
    }
    if (callers === undefined) {
      proceed(life, done);
      return;
    }
    let caller: ReturnType<typeof callerOf>;
    try {
      caller = callerOf(callers, route.config.callers, request);
    } catch (error) {
      done(KitError.from(error));
      return;
    }
    if (typeof caller === 'object') {
      caller.then((name) => {
        request.serviceCaller = name;
        proceed(life, done);
      }, (error: unknown) => done(KitError.from(error)));
      return;
    }
    request.serviceCaller = caller;
    proceed(life, done);
  });

  if (tracing !== undefined) {
    // The handler runs from here, after the body was parsed: in the request's context for sure.
    app.addHook('preHandler', function enterRequestSpan(request, _reply, done) {
      const active = activeContextOf(request);
      if (active === undefined) done();
      else context.with(active, done);
    });
  }
}
