import { importJWK, jwtVerify, type JWK } from 'jose';
import { tokenAudience, tokenIssuer } from './token-claims.ts';

// The access token check. Baton's gateway checks the caller's token (EdDSA, issuer, audience,
// type) and orders checks it again, because identity is passed on as something a service can
// verify; the bare chain does that same work with jose's public API, and nothing more (no
// key fetching or rotation, no revocation list): the key is given at start.
const publicKey = await importJWK(JSON.parse(process.env.BARE_PUBLIC_JWK ?? '{}') as JWK, 'EdDSA');

/** The user id in a valid `Authorization: Bearer` token; throws otherwise. */
export async function verifiedUserId(authorization: string | undefined): Promise<string> {
  const token = authorization?.startsWith('Bearer ') ? authorization.slice(7) : '';
  const { payload } = await jwtVerify(token, publicKey, { algorithms: ['EdDSA'], issuer: tokenIssuer, audience: tokenAudience, typ: 'at+jwt' });
  if (typeof payload.sub !== 'string') throw new Error('no subject');
  return payload.sub;
}
