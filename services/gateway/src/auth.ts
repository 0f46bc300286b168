import type { FastifyRequest } from 'fastify';
import { bearerTokenOf, type TokenVerifier } from '@baton/kit/auth';
import type { RateLimits } from './rate-limits.ts';

/**
 * Who is asking: the token's signature, expiry, issuer and audience are checked here (EdDSA
 * only; `alg: none` and HMAC tokens are refused), then the caller is counted against its own
 * rate limit. The token itself goes on to the service, which checks it again: identity is
 * passed as something a service can verify, never as a header it must take on trust.
 */
export function createAuthenticator(verifier: TokenVerifier, limits: RateLimits) {
  return async function authenticate(request: FastifyRequest): Promise<string> {
    const { userId } = await verifier.verify(bearerTokenOf(request.headers.authorization));
    await limits.checkUser(request, userId);
    return userId;
  };
}

export type Authenticate = ReturnType<typeof createAuthenticator>;
