import type { FastifyRequest } from 'fastify';
import { bearerTokenOf, requireRole, type Role, type TokenVerifier, type VerifiedToken } from '@baton/kit/auth';
import type { RateLimits } from './rate-limits.ts';

export interface Authenticate {
  /** The caller of the public API, by its bearer token. */
  (request: FastifyRequest, options?: { role?: Role }): Promise<VerifiedToken>;
  /** The same checks for a token the gateway holds for the caller (the storefront's session cookie). */
  token(request: FastifyRequest, token: string, options?: { role?: Role }): Promise<VerifiedToken>;
}

/**
 * Who is asking: the token's signature, expiry, issuer and audience are checked here (EdDSA
 * only; `alg: none` and HMAC tokens are refused), then the caller is counted against its own
 * rate limit, and, for a route that wants one, its role is checked (403 without it). The token
 * itself goes on to the service, which checks it again: identity is passed as something a
 * service can verify, never as a header it must take on trust.
 */
export function createAuthenticator(verifier: TokenVerifier, limits: RateLimits): Authenticate {
  async function token(request: FastifyRequest, text: string, { role }: { role?: Role } = {}): Promise<VerifiedToken> {
    const verified = await verifier.verify(text);
    await limits.checkUser(request, verified.userId);
    return role === undefined ? verified : requireRole(verified, role);
  }
  return Object.assign((request: FastifyRequest, options?: { role?: Role }) => token(request, bearerTokenOf(request.headers.authorization), options), { token });
}

/**
 * The `onRequest` hooks of a route that wants a caller: the token (and a staff route's role) is
 * checked first, before the body is read or validated, so a caller without a token is told 401,
 * a shopper on a staff route 403, and neither anything about what the route would take.
 */
export function callerChecks(authenticate: Authenticate): { signedIn(request: FastifyRequest): Promise<void>; staffOnly(request: FastifyRequest): Promise<void> } {
  return {
    async signedIn(request) { await authenticate(request); },
    async staffOnly(request) { await authenticate(request, { role: 'staff' }); },
  };
}
