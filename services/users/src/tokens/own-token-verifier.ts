import { createLocalJWKSet } from 'jose';
import { verifyAccessToken, type VerifiedToken } from '@baton/kit/auth';
import type { Database } from '@baton/kit/db';
import { listPublishedKeys } from './signing-keys.ts';

export interface OwnTokenVerifierOptions {
  issuer: string;
  audience: string;
  /** As for the JWKS: how long a retired key still verifies the tokens it signed. */
  retiredForSeconds: number;
}

export interface OwnTokenVerifier {
  verify(token: string, options: { signal: AbortSignal }): Promise<VerifiedToken>;
}

/**
 * Verifies access tokens in this service, against exactly the keys its JWKS publishes, read
 * from its own database rather than fetched over HTTP from itself. The checks are the kit's,
 * the same every other service makes.
 */
export function createOwnTokenVerifier(db: Database, { issuer, audience, retiredForSeconds }: OwnTokenVerifierOptions): OwnTokenVerifier {
  return {
    async verify(token, { signal }) {
      const keys = await listPublishedKeys(db, { retiredForSeconds }, { signal });
      return verifyAccessToken(token, createLocalJWKSet({ keys }), { issuer, audience });
    },
  };
}
