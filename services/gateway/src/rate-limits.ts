import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Code, KitError } from '@baton/kit/errors';

/** A limit on one route, per client address: `max` requests per `windowMs`. */
export interface RouteLimit {
  max: number;
  windowMs: number;
  /** Routes that name the same bucket share one count (the API's registration and the storefront's sign-up form). */
  bucket?: string;
}

export interface RateLimitOptions {
  perAddressPerMinute: number;
  perUserPerMinute: number;
  /** Limits of their own for some routes, by `METHOD /route/as/declared` (`POST /api/v1/users`). */
  perRoute?: Readonly<Record<string, RouteLimit>>;
}

export interface RateLimits {
  /**
   * Counts a request against its address, over every route, and against its route's own limit
   * when it has one; throws 429 (with Retry-After) past either.
   */
  checkAddress(request: FastifyRequest): Promise<void>;
  /** Counts a signed-in request against its user; throws 429 (with Retry-After) past the limit. */
  checkUser(request: FastifyRequest, userId: string): Promise<void>;
}

const minuteMs = 60_000;

/** The route a request was matched to, as declared (`GET /api/v1/products/:sku`); undefined when none matched. */
export function matchedRouteOf(request: FastifyRequest): string | undefined {
  const { url, method } = request.routeOptions;
  return url === undefined ? undefined : `${Array.isArray(method) ? method.join(',') : method} ${url}`;
}

/**
 * The gateway's limits, all from @fastify/rate-limit's in-memory store: one by client address for
 * every request, one by user for signed-in requests, and per-route ones by address. A route is
 * known by what the router matched, never by the raw URL, so `/%61pi/v1/users` or
 * `/api/v1/%75sers` count exactly as `/api/v1/users` does (the router decodes the path; a raw
 * URL check did not). Their answer becomes a KitError here, so a 429 is a problem document.
 */
export async function installRateLimits(app: FastifyInstance, { perAddressPerMinute, perUserPerMinute, perRoute = {} }: RateLimitOptions): Promise<RateLimits> {
  await app.register(rateLimit, { global: false });
  const byAddress = app.createRateLimit({ max: perAddressPerMinute, timeWindow: minuteMs, keyGenerator: (request) => `ip:${request.ip}` });
  const userIds = new WeakMap<FastifyRequest, string>();
  const byUser = app.createRateLimit({ max: perUserPerMinute, timeWindow: minuteMs, keyGenerator: (request) => `user:${userIds.get(request) ?? ''}` });
  const buckets = new Map<string, ReturnType<typeof app.createRateLimit>>();
  const bucketOf = (name: string, { max, windowMs }: RouteLimit) => {
    let limiter = buckets.get(name);
    if (limiter === undefined) {
      limiter = app.createRateLimit({ max, timeWindow: windowMs, keyGenerator: (request) => `route:${name}:ip:${request.ip}` });
      buckets.set(name, limiter);
    }
    return limiter;
  };
  const byRoute = new Map(Object.entries(perRoute).map(([route, limit]) => [route, bucketOf(limit.bucket ?? route, limit)]));

  const enforce = (result: Awaited<ReturnType<typeof byAddress>>, what: string) => {
    // `isAllowed` means "on the allow list"; a counted request is over the limit only when
    // `isExceeded` says so.
    if (result.isAllowed || !result.isExceeded) return;
    throw new KitError(Code.ResourceExhausted, `too many requests from this ${what}`, {
      reason: 'rate_limited',
      retryAfterSeconds: Math.max(1, result.ttlInSeconds),
    });
  };

  return {
    async checkAddress(request) {
      enforce(await byAddress(request), 'address');
      const route = matchedRouteOf(request);
      const limit = route === undefined ? undefined : byRoute.get(route);
      if (limit !== undefined) enforce(await limit(request), 'address on this route');
    },
    async checkUser(request, userId) {
      userIds.set(request, userId);
      enforce(await byUser(request), 'account');
    },
  };
}
