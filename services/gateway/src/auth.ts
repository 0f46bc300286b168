import type { FastifyRequest } from 'fastify';
import { bearerTokenOf, requireRole, type Role, type TokenVerifier, type VerifiedToken } from '@baton/kit/auth';
import type { RateLimits } from './rate-limits.ts';

/**
 * Who is asking: the token's signature, expiry, issuer and audience are checked here (EdDSA
 * only; `alg: none` and HMAC tokens are refused), then the caller is counted against its own
 * rate limit, and, for a route that wants one, its role is checked (403 without it). The token
 * itself goes on to the service, which checks it again: identity is passed as something a
 * service can verify, never as a header it must take on trust.
 */
export function createAuthenticator(verifier: TokenVerifier, limits: RateLimits) {
  return async function authenticate(request: FastifyRequest, { role }: { role?: Role } = {}): Promise<VerifiedToken> {
    const token = await verifier.verify(bearerTokenOf(request.headers.authorization));
    await limits.checkUser(request, token.userId);
    return role === undefined ? token : requireRole(token, role);
  };
}

export type Authenticate = ReturnType<typeof createAuthenticator>;
