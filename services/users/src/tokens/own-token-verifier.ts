import { createLocalJWKSet } from 'jose';
import { verifyAccessToken, type VerifiedToken } from '@baton/kit/auth';
import type { Database } from '@baton/kit/db';
import { Code, KitError } from '@baton/kit/errors';
import { isRevoked } from './revocations.ts';
import { listPublishedKeys } from './signing-keys.ts';

export interface OwnTokenVerifierOptions {
  issuer: string;
  /** This service's own name, which a token's `aud` must list. */
  audience: string;
  clockToleranceSeconds: number;
  maxAgeSeconds: number;
  /** As for the JWKS: how long a retired key still verifies the tokens it signed. */
  retiredForSeconds: number;
}

export interface OwnTokenVerifier {
  verify(token: string, options: { signal: AbortSignal }): Promise<VerifiedToken>;
}

/**
 * Verifies access tokens in this service, against exactly the keys its JWKS publishes and the
 * revocations its feed publishes, read from its own database rather than fetched over HTTP
 * from itself (so a revocation holds here at once). The claim checks are the kit's, the same
 * every other service makes.
 */
export function createOwnTokenVerifier(db: Database, { issuer, audience, clockToleranceSeconds, maxAgeSeconds, retiredForSeconds }: OwnTokenVerifierOptions): OwnTokenVerifier {
  return {
    async verify(token, { signal }) {
      const keys = await listPublishedKeys(db, { retiredForSeconds }, { signal });
      const verified = await verifyAccessToken(token, createLocalJWKSet({ keys }), { issuer, audience, clockToleranceSeconds, maxAgeSeconds });
      if (await isRevoked(db, verified, { signal })) {
        throw new KitError(Code.Unauthenticated, 'the access token has been revoked; sign in again', { reason: 'token_revoked' });
      }
      return verified;
    },
  };
}
