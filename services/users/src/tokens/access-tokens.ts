import { randomUUID } from 'node:crypto';
import { importJWK, SignJWT, type CryptoKey, type JWK } from 'jose';
import { accessTokenAlgorithm, accessTokenType, type Role } from '@baton/kit/auth';
import type { Database } from '@baton/kit/db';
import { Code, KitError } from '@baton/kit/errors';
import { findActiveSigningKey } from './signing-keys.ts';
import { openPrivateJwk } from './key-sealing.ts';

export interface AccessTokenSettings {
  issuer: string;
  /** The services a token is for (`aud`); each verifier looks for its own name. */
  audience: string | string[];
  ttlSeconds: number;
}

export interface SignAccessTokenInput extends AccessTokenSettings {
  userId: string;
  /** What the user may do beyond shopping: the `roles` claim, left out when there is none. */
  roles?: readonly Role[];
  /** The session it is issued in: the `sid` claim, which a sign-out uses to end the session. */
  sessionId?: string | undefined;
  /** When the token is issued, in seconds since the epoch; `exp` is this plus `ttlSeconds`. */
  issuedAtSeconds: number;
}

/**
 * Signs one access token: EdDSA, `kid` and `typ` in the header, and `iss`, `aud`, `sub` (the
 * user), `iat`, `exp` and a random `jti` in the claims, `sid` (its session), and `roles` for staff. Nothing else goes
 * in: a token is readable by whoever holds it, so it carries no email or name.
 */
export function signAccessToken(key: { kid: string; privateKey: CryptoKey }, { userId, roles = [], sessionId, issuer, audience, ttlSeconds, issuedAtSeconds }: SignAccessTokenInput): Promise<string> {
  return new SignJWT({ ...(roles.length === 0 ? {} : { roles: [...roles] }), ...(sessionId === undefined ? {} : { sid: sessionId }) })
    .setProtectedHeader({ alg: accessTokenAlgorithm, kid: key.kid, typ: accessTokenType })
    .setIssuer(issuer)
    .setAudience(audience)
    .setSubject(userId)
    .setIssuedAt(issuedAtSeconds)
    .setExpirationTime(issuedAtSeconds + ttlSeconds)
    .setJti(randomUUID())
    .sign(key.privateKey);
}

export interface AccessTokenIssuer {
  /**
   * `notBeforeMs` is the user's latest revocation cut-off (a password change): the token is dated
   * no earlier, so it is not taken for one of the tokens revoked then.
   */
  issue(userId: string, options: { signal: AbortSignal; roles?: readonly Role[]; sessionId?: string; notBeforeMs?: number | undefined }): Promise<{ accessToken: string; expiresIn: number }>;
}

/**
 * Issues access tokens with whichever key is active in the database at the moment, read at
 * every sign-in (one indexed row), so a rotation made through any replica takes effect in all
 * of them at once. Only the import of a key into a CryptoKey is cached, by `kid`.
 */
export function createAccessTokenIssuer(db: Database, keyEncryptionKey: Buffer, settings: AccessTokenSettings): AccessTokenIssuer {
  let imported: { kid: string; privateKey: Promise<CryptoKey> } | undefined;

  function privateKeyOf(kid: string, sealed: Buffer): Promise<CryptoKey> {
    if (imported?.kid !== kid) {
      const privateJwk: JWK = openPrivateJwk(keyEncryptionKey, kid, sealed);
      imported = { kid, privateKey: importJWK(privateJwk, accessTokenAlgorithm) as Promise<CryptoKey> };
    }
    return imported.privateKey;
  }

  return {
    async issue(userId, { signal, roles = [], sessionId, notBeforeMs = 0 }) {
      const active = await findActiveSigningKey(db, { signal });
      if (active === undefined) {
        // ensureSigningKey runs at start, so this is a database changed behind our back.
        throw new KitError(Code.Internal, 'internal error', { cause: new Error('no active signing key') });
      }
      const privateKey = await privateKeyOf(active.kid, active.sealedPrivateKey);
      const accessToken = await signAccessToken({ kid: active.kid, privateKey }, {
        ...settings,
        userId,
        roles,
        sessionId,
        // At most a second ahead of this clock, within every verifier's tolerance.
        issuedAtSeconds: Math.max(Math.floor(Date.now() / 1_000), Math.ceil(notBeforeMs / 1_000)),
      });
      return { accessToken, expiresIn: settings.ttlSeconds };
    },
  };
}
