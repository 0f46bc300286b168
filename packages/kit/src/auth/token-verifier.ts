import { createRemoteJWKSet } from 'jose';
import type { VerifiedToken } from './access-token.ts';
import { verifyAccessToken, type AccessTokenExpectations } from './verify-access-token.ts';

export interface TokenVerifierOptions extends AccessTokenExpectations {
  /** The users service's key set: `<users base URL>/.well-known/jwks.json`. */
  jwksUrl: string | URL;
  /**
   * After a fetch, how long a token with an unknown `kid` is refused without fetching again.
   * It bounds what forged tokens can make this service ask of the users service (one fetch
   * per cooldown), and it is also how long a token signed by a just-rotated key may be refused
   * by a verifier that fetched the set a moment before the rotation: so it is short.
   */
  cooldownMs?: number;
  /** How long one fetch of the key set may take; past it, verification fails with `unavailable`. */
  fetchTimeoutMs?: number;
  /** How long a fetched key set is used before it is fetched again even without an unknown `kid`. */
  cacheMaxAgeMs?: number;
}

export interface TokenVerifier {
  /**
   * Resolves to who the token speaks for, or throws a KitError: `unauthenticated` for a token
   * that is not valid (expired, tampered, wrong issuer or audience, wrong algorithm), or
   * `unavailable` when the key set could not be fetched.
   */
  verify(token: string): Promise<VerifiedToken>;
}

/**
 * The verifier every service but users uses for access tokens. It fetches the users service's
 * public keys once and caches them; a token whose `kid` it does not know makes it fetch again,
 * so a rotated key is picked up without a restart. Build one per process and share it: the
 * cache lives in the instance.
 *
 * @example
 * const verifier = createTokenVerifier({ jwksUrl: `${usersUrl}/.well-known/jwks.json`, issuer: 'baton-users', audience: 'baton' });
 * const { userId } = await verifier.verify(bearerTokenOf(request.headers.authorization));
 */
export function createTokenVerifier({
  jwksUrl,
  issuer,
  audience,
  clockToleranceSeconds = 5,
  cooldownMs = 1_000,
  fetchTimeoutMs = 2_000,
  cacheMaxAgeMs = 10 * 60_000,
}: TokenVerifierOptions): TokenVerifier {
  const keys = createRemoteJWKSet(new URL(jwksUrl), {
    cooldownDuration: cooldownMs,
    timeoutDuration: fetchTimeoutMs,
    cacheMaxAge: cacheMaxAgeMs,
  });
  const expectations = { issuer, audience, clockToleranceSeconds };
  return {
    verify: function verifyToken(token) {
      return verifyAccessToken(token, keys, expectations);
    },
  };
}
