import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Code, KitError } from '@baton/kit/errors';

export interface RateLimitOptions {
  perAddressPerMinute: number;
  perUserPerMinute: number;
}

export interface RateLimits {
  /** Counts a request against its address; throws 429 (with Retry-After) past the limit. */
  checkAddress(request: FastifyRequest): Promise<void>;
  /** Counts a signed-in request against its user; throws 429 (with Retry-After) past the limit. */
  checkUser(request: FastifyRequest, userId: string): Promise<void>;
}

const windowMs = 60_000;

/**
 * Two limits, both from @fastify/rate-limit's in-memory store: one by client address for
 * every API request, one by user for signed-in requests, so neither a single address nor a
 * single account can take the shop's capacity. Its answer becomes a KitError here, so a 429
 * is a problem document like every other error.
 */
export async function installRateLimits(app: FastifyInstance, { perAddressPerMinute, perUserPerMinute }: RateLimitOptions): Promise<RateLimits> {
  await app.register(rateLimit, { global: false });
  const byAddress = app.createRateLimit({ max: perAddressPerMinute, timeWindow: windowMs, keyGenerator: (request) => `ip:${request.ip}` });
  const userIds = new WeakMap<FastifyRequest, string>();
  const byUser = app.createRateLimit({ max: perUserPerMinute, timeWindow: windowMs, keyGenerator: (request) => `user:${userIds.get(request) ?? ''}` });

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
    },
    async checkUser(request, userId) {
      userIds.set(request, userId);
      enforce(await byUser(request), 'account');
    },
  };
}
