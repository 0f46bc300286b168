/**
 * What every Baton access token is, shared by the one service that signs them (users) and every
 * service that verifies them, so the two sides cannot drift apart.
 */

/**
 * The one signature algorithm: EdDSA over Ed25519. Verifiers accept nothing else, so a token
 * with `alg: none` or an HMAC algorithm (which would let a public key be used as a shared
 * secret) is refused before any key is looked at.
 */
export const accessTokenAlgorithm = 'EdDSA';

/**
 * The `typ` header of an access token (RFC 9068). Verifiers require it, so a JWT minted for
 * another purpose with the same key can never pass as an access token.
 */
export const accessTokenType = 'at+jwt';

/** What a verified access token says: who the caller is, which token it was, and until when. */
export interface VerifiedToken {
  /** The `sub` claim: the id of the signed-in user. */
  userId: string;
  /** The `jti` claim: unique per token, for logs and revocation. */
  tokenId: string;
  /** The `iat` claim: a password change revokes every token issued before it. */
  issuedAt: Date;
  /** The `exp` claim. */
  expiresAt: Date;
}
