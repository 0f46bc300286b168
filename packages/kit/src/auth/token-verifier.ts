import { createRemoteJWKSet } from 'jose';
import { parseDnsTarget } from '../upstream/dns-discovery.ts';
import type { StatelessServiceContext } from '../service/definition.ts';
import type { VerifiedToken } from './access-token.ts';
import { startRevocationPoller, type RevocationPoller, type RevocationPollerOptions } from './revocation-poller.ts';
import type { AccessTokenConfig } from './token-config.ts';
import { createVerifiedTokenCache } from './verified-token-cache.ts';
import { defaultTokenMaxAgeSeconds, verifyAccessToken, type AccessTokenExpectations } from './verify-access-token.ts';

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
  /** Where revoked tokens are learnt from; without it, no token is ever taken as revoked (tests of the claims alone). */
  revocations?: RevocationPollerOptions;
  /** How many verified tokens are remembered, each until it expires (see {@link createVerifiedTokenCache}). */
  cacheSize?: number;
}

export interface TokenVerifier {
  /**
   * Resolves to who the token speaks for, or throws a KitError: `unauthenticated` for a token
   * that is not valid (expired, tampered, wrong issuer or audience, wrong algorithm, too old,
   * revoked), or `unavailable` when the key set or the revocations could not be fetched.
   */
  verify(token: string): Promise<VerifiedToken>;
  /** Stops polling for revocations. */
  close(): void;
}

/**
 * The verifier every service but users uses for access tokens. It fetches the users service's
 * public keys once and caches them; a token whose `kid` it does not know makes it fetch again,
 * so a rotated key is picked up without a restart. A token it verified is remembered (bounded,
 * until it expires), so each hop checks a user's signature once, not on every request: the
 * signature and claims cannot change, and the checks of time are redone on each use. With
 * `revocations`, it also polls the users service for revoked tokens and refuses them, cached or
 * not: revocation is looked up on every use (a map lookup). A token verified before its key was
 * withdrawn from the key set stays accepted until it expires (an hour at most); a leaked key is
 * answered by revoking the tokens, which takes effect at once. Build one per process and share
 * it: the caches live in the instance.
 *
 * @example
 * const verifier = createTokenVerifier({ jwksUrl: `${usersUrl}/.well-known/jwks.json`, issuer: 'baton-users', audience: 'orders' });
 * const { userId } = await verifier.verify(bearerTokenOf(request.headers.authorization));
 */
export function createTokenVerifier({
  jwksUrl,
  issuer,
  audience,
  clockToleranceSeconds = 5,
  maxAgeSeconds,
  cooldownMs = 1_000,
  fetchTimeoutMs = 2_000,
  cacheMaxAgeMs = 10 * 60_000,
  revocations,
  cacheSize = 4_096,
  now = () => Date.now(),
}: TokenVerifierOptions): TokenVerifier {
  const keys = createRemoteJWKSet(new URL(jwksUrl), {
    cooldownDuration: cooldownMs,
    timeoutDuration: fetchTimeoutMs,
    cacheMaxAge: cacheMaxAgeMs,
  });
  const expectations = { issuer, audience, clockToleranceSeconds, maxAgeSeconds, now };
  const verifiedTokens = createVerifiedTokenCache<VerifiedToken>({ maxEntries: cacheSize, now });
  // An entry lasts while a verification would still accept the token: until `exp` and until
  // `iat` + the maximum age, with the same tolerance. Past that the token is verified again, which
  // refuses it with the reason the caller should hear. Revocation does not depend on the text
  // alone, so it is not cached: it is checked on every use.
  const validUntilMs = (verified: VerifiedToken) =>
    Math.min(verified.expiresAt.getTime(), verified.issuedAt.getTime() + (maxAgeSeconds ?? defaultTokenMaxAgeSeconds) * 1_000) + clockToleranceSeconds * 1_000;
  const revoked: RevocationPoller | undefined = revocations === undefined ? undefined : startRevocationPoller(revocations);
  return {
    async verify(token) {
      let verified = verifiedTokens.get(token);
      if (verified === undefined) {
        verified = await verifyAccessToken(token, keys, expectations);
        verifiedTokens.remember(token, verified, validUntilMs(verified));
      }
      await revoked?.check(verified);
      return verified;
    },
    close() {
      revoked?.close();
      verifiedTokens.close();
    },
  };
}

/**
 * Where a `<SERVICE>_URLS` entry is reached by a plain URL: itself, or for a `dns:<host>:<port>`
 * target (a name with an A record per instance, as a Kubernetes headless Service has) the name
 * itself, `http://<host>:<port>`, which the system's resolver turns into one of those addresses.
 * For what is fetched rarely and needs no balancing (the key set).
 */
export function baseUrlOf(target: string): string {
  if (!target.startsWith('dns:')) return target;
  const { host, port } = parseDnsTarget(target);
  return `http://${host}:${port}`;
}

/**
 * A service's token verifier, from its config (see `accessTokenConfigFields`) and context: the
 * users service's JWKS, this service's name as the audience, and revocations polled through a
 * kit client made from the context, so the call carries whatever the context's clients carry
 * (this service's identity), and stopped when the service closes.
 *
 * @example
 * const verifier = createServiceTokenVerifier(context, { ...config, usersUrls: config.USERS_URLS });
 */
export function createServiceTokenVerifier(
  { createHttpClient, onClose, logger }: Pick<StatelessServiceContext, 'createHttpClient' | 'onClose' | 'logger'>,
  config: AccessTokenConfig & { usersUrls: readonly string[] },
): TokenVerifier {
  const firstUsersUrl = config.usersUrls[0];
  if (firstUsersUrl === undefined) throw new TypeError('usersUrls is empty');
  const verifier = createTokenVerifier({
    jwksUrl: config.USERS_JWKS_URL ?? new URL('/.well-known/jwks.json', baseUrlOf(firstUsersUrl)).href,
    issuer: config.TOKEN_ISSUER,
    audience: config.TOKEN_AUDIENCE,
    clockToleranceSeconds: config.TOKEN_CLOCK_TOLERANCE_SECONDS,
    maxAgeSeconds: config.TOKEN_MAX_AGE_SECONDS,
    revocations: {
      client: createHttpClient({ name: 'users', urls: [...config.usersUrls] }),
      pollIntervalMs: config.TOKEN_REVOCATIONS_POLL_MS,
      staleAfterMs: Math.max(config.TOKEN_REVOCATIONS_STALE_AFTER_MS, config.TOKEN_REVOCATIONS_POLL_MS * 2),
      onPollFailed: (error) => logger.warn({ err: error }, 'could not fetch token revocations; trying again at the next poll'),
    },
  });
  onClose(() => verifier.close());
  return verifier;
}
