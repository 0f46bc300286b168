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
  /**
   * The `roles` claim: what the user may do beyond shopping (`staff`). Empty for a shopper, and
   * for a token that has no such claim. A role taken away reaches a token at its next issue, so
   * it is revoked with the user's tokens (a sign-out everywhere) when it must end at once.
   */
  roles: readonly Role[];
  /** The `sid` claim: the sign-in session the token was issued in, which a sign-out ends. */
  sessionId?: string;
}

/** The roles a token can carry. Anything else in the claim is dropped, not trusted. */
export const roles = ['staff'] as const;
export type Role = (typeof roles)[number];

/** The known roles among a claim's values, whatever the claim holds. */
export function rolesOf(claim: unknown): Role[] {
  if (!Array.isArray(claim)) return [];
  return roles.filter((role) => claim.includes(role));
}
