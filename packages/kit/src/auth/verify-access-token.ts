import { errors, jwtVerify, type JWTVerifyGetKey } from 'jose';
import { Code, KitError } from '../errors/index.ts';
import { accessTokenAlgorithm, accessTokenType, rolesOf, type VerifiedToken } from './access-token.ts';

/** Finds the public key for a token's header: a jose key set, local or remote. */
export type KeyResolver = JWTVerifyGetKey;

export interface AccessTokenExpectations {
  /** The `iss` the token must carry: the users service's `TOKEN_ISSUER`. */
  issuer: string;
  /** The name this service must find in the token's `aud`: its own (users lists the services a token is for). */
  audience: string;
  /** How far this host's clock may be from the signer's when `exp`, `nbf` and `iat` are checked. */
  clockToleranceSeconds?: number;
  /**
   * The longest a token may live: both `exp − iat` and the time since `iat` must be within it,
   * so a token that a stolen key signed for ten years, or dated a year ahead, is refused.
   */
  maxAgeSeconds?: number;
  /** The clock the time claims are checked against (tests move it). */
  now?: () => number;
}

/** The default of `maxAgeSeconds`, and of every service's `TOKEN_MAX_AGE_SECONDS`. */
export const defaultTokenMaxAgeSeconds = 3_600;

/**
 * Verifies an access token against a key set: the signature (EdDSA only), `typ`, `iss`, `aud`,
 * `exp`, `nbf` when present, `iat` (required, not ahead of this clock beyond the tolerance, not
 * older than the maximum age), that `exp − iat` is within the maximum age, and that `sub` and
 * `jti` are there. Throws `unauthenticated` with a message fit for the caller (jose's own
 * message stays in `cause`, for the log), or `unavailable` when the keys themselves could not be
 * had, which is not the caller's fault and is worth a retry.
 *
 * @example
 * const { userId } = await verifyAccessToken(token, createLocalJWKSet(jwks), { issuer, audience });
 */
export async function verifyAccessToken(token: string, keys: KeyResolver, {
  issuer,
  audience,
  clockToleranceSeconds = 5,
  maxAgeSeconds = defaultTokenMaxAgeSeconds,
  now = Date.now,
}: AccessTokenExpectations): Promise<VerifiedToken> {
  let claims;
  try {
    ({ payload: claims } = await jwtVerify(token, guardKeySource(keys), {
      algorithms: [accessTokenAlgorithm],
      typ: accessTokenType,
      issuer,
      audience,
      clockTolerance: clockToleranceSeconds,
      // jose requires `iat` with it, refuses one ahead of now beyond the tolerance, and one
      // older than this; `nbf` it checks whenever it is there.
      maxTokenAge: maxAgeSeconds,
      requiredClaims: ['sub', 'jti', 'iat', 'exp'],
      currentDate: new Date(now()),
    }));
  } catch (error) {
    throw verificationError(error);
  }
  const { sub, jti, exp, iat } = claims;
  if (typeof sub !== 'string' || sub === '' || typeof jti !== 'string' || jti === '' || typeof exp !== 'number' || typeof iat !== 'number') {
    throw invalidToken(new Error('sub, jti, iat or exp is not of the expected type'));
  }
  if (exp - iat > maxAgeSeconds) {
    throw invalidToken(new Error(`exp − iat is ${exp - iat} s, above the ${maxAgeSeconds} s allowed`));
  }
  const { sid } = claims;
  return {
    userId: sub, tokenId: jti, issuedAt: new Date(iat * 1_000), expiresAt: new Date(exp * 1_000), roles: rolesOf(claims.roles),
    ...(typeof sid === 'string' && sid !== '' ? { sessionId: sid } : {}),
  };
}

/**
 * A key source can fail in two ways that must not be confused: the token names no key it has
 * (the token's fault: 401), or it could not fetch its keys at all (the key server's fault: a
 * 401 would send every signed-in user back to the sign-in page, so it is a retryable 503).
 */
function guardKeySource(keys: KeyResolver): KeyResolver {
  return async function resolveKey(header, token) {
    try {
      return await keys(header, token);
    } catch (error) {
      if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys || error instanceof errors.JOSENotSupported) {
        throw error;
      }
      throw new KitError(Code.Unavailable, 'the keys to verify the access token cannot be had now; try again shortly', {
        reason: 'keys_unavailable',
        retryAfterSeconds: 1,
        cause: error,
      });
    }
  };
}

function verificationError(error: unknown): KitError {
  if (error instanceof KitError) return error;
  // jose says JWTExpired for an `iat` older than the maximum age too: to the caller both are
  // a token past its time, to be replaced by signing in again.
  if (error instanceof errors.JWTExpired) {
    return new KitError(Code.Unauthenticated, 'the access token has expired', { reason: 'token_expired', cause: error });
  }
  return invalidToken(error);
}

function invalidToken(cause: unknown): KitError {
  return new KitError(Code.Unauthenticated, 'the access token is not valid', { reason: 'invalid_token', cause });
}
