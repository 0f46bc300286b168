import { serviceTokenHeader } from '../auth/service-identity/service-token.ts';

// The reasons of a 401 that refused a token the caller did send: RFC 6750's `invalid_token`.
const refusedToken = new Set(['invalid_token', 'token_expired', 'token_revoked', 'account_gone']);

/**
 * The `WWW-Authenticate` challenge of a 401, by its reason: a service credential is asked for in
 * its own header (`baton-service-token`, see docs/security.md); everything else is a bearer token
 * (a user's access token, or an admin token), with `error="invalid_token"` when the one sent was
 * refused, and no error when none was sent (RFC 6750 §3.1).
 *
 * @example
 * authenticateChallenge('token_expired') // 'Bearer realm="baton", error="invalid_token"'
 */
export function authenticateChallenge(reason: string | undefined): string {
  if (reason?.startsWith('service_token') === true) return `Baton-Service-Token realm="baton", header="${serviceTokenHeader}"`;
  return reason !== undefined && refusedToken.has(reason) ? 'Bearer realm="baton", error="invalid_token"' : 'Bearer realm="baton"';
}
