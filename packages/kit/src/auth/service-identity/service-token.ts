/**
 * What a service token is: an EdDSA (Ed25519) JWT a Baton service signs with its own key to call
 * another one. `iss` and `sub` name the caller, `aud` the callee; it lives a few minutes.
 */

/** The header (and gRPC metadata key) that carries it, beside a user's `Authorization`. */
export const serviceTokenHeader = 'baton-service-token';

/**
 * Its JOSE `typ`: a user's access token (`at+jwt`) never passes as a service token, nor a
 * service token as an access token, even if one key signed both.
 */
export const serviceTokenType = 'svc+jwt';

export const serviceTokenAlgorithm = 'EdDSA';

/** How long a minted token is valid. */
export const serviceTokenLifetimeSeconds = 300;

/** A caller mints a new token when its cached one has less than this left. */
export const serviceTokenRenewBeforeSeconds = 60;

/** A token that claims to live longer than this (`exp - iat`) is refused, whoever signed it. */
export const serviceTokenMaxLifetimeSeconds = serviceTokenLifetimeSeconds;

/** How far the caller's clock may be from the callee's. */
export const serviceTokenClockSkewSeconds = 30;
