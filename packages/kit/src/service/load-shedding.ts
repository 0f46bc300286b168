import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Counter } from 'prom-client';
import { Code, KitError, problemContentType, toProblem } from '../errors/index.ts';
import type { AdaptiveLimiter, Priority } from '../resilience/index.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * How much this route matters when the service is overloaded: `critical` is never shed
     * (health checks), `high` (checkout) outranks `normal`, and `low` (browsing) goes first.
     */
    priority?: Priority;
    /**
     * The route holds its answer by design (a feed's long poll): it takes no place in the limit,
     * and its time, which is the wait it was asked for, teaches the limiter nothing. Never shed.
     */
    heldOpen?: boolean;
  }
}

// What a held-open route is let in with: nothing to give back.
const unlimited: Admission = { release() {} };

// Built once: a shed request must cost almost nothing, so its answer is a constant.
const shedBody = JSON.stringify(toProblem(new KitError(Code.Unavailable, 'the service is overloaded; try again shortly', { reason: 'overloaded' })));

/** A request let in: given back once it is answered, with what its answer says of our capacity. */
export interface Admission {
  release(reply: FastifyReply): void;
}

export interface LoadShedding {
  /** Lets the request in, or answers it at once with a prebuilt 503 and returns undefined. */
  admit(route: FastifyRequest['routeOptions'], reply: FastifyReply): Admission | undefined;
}

/**
 * Load shedding at the front door: an adaptive limit on requests in flight (the limiter learns
 * it from latency), checked by the request lifecycle (`request-lifecycle.ts`) before any other
 * work. A shed request is answered with a prebuilt 503 and `Retry-After: 1`, without parsing,
 * logging or touching the database.
 */
export function createLoadShedding(limiter: AdaptiveLimiter, shedCounter: Counter<'route' | 'priority'>): LoadShedding {
  return {
    admit({ config, url }, reply) {
      if (config.heldOpen === true) return unlimited;
      const priority = config.priority ?? 'normal';
      const token = limiter.acquire(priority, url);
      if (token === undefined) {
        shedCounter.inc({ route: url ?? 'unmatched', priority });
        reply.code(503).header('retry-after', '1').header('content-type', problemContentType).send(shedBody);
        return undefined;
      }
      const startedAt = performance.now();
      return {
        release({ raw }) {
          // Only answers that reflect this service's own capacity teach the limiter: a timeout says
          // we are too slow; a caller that went away, a 4xx or an upstream's 503 say nothing about
          // how loaded we are.
          const outcome = !raw.writableFinished ? 'ignore' : raw.statusCode === 504 ? 'dropped' : raw.statusCode >= 400 ? 'ignore' : 'success';
          token.release(outcome, performance.now() - startedAt);
        },
      };
    },
  };
}
