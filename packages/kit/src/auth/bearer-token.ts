import { Code, KitError } from '../errors/index.ts';

// RFC 6750's b64token: a JWT is three base64url parts joined by dots. Anything else is not a
// bearer token, so it is refused before any parsing or key lookup.
const bearerHeader = /^Bearer +([A-Za-z0-9\-._~+/]+=*)$/i;

// Far above any token Baton signs (about 400 bytes), far below what would make parsing cost.
const maxTokenLength = 4_096;

/**
 * The token of an `Authorization: Bearer <token>` header. Throws `unauthenticated` when the
 * header is missing or is not a bearer token, with a message fit for the caller.
 *
 * @example
 * const { userId } = await verifier.verify(bearerTokenOf(request.headers.authorization));
 */
export function bearerTokenOf(authorizationHeader: string | undefined): string {
  if (authorizationHeader === undefined || authorizationHeader === '') {
    throw new KitError(Code.Unauthenticated, 'a bearer token is required', { reason: 'missing_token' });
  }
  const token = bearerHeader.exec(authorizationHeader)?.[1];
  if (token === undefined || token.length > maxTokenLength) {
    throw new KitError(Code.Unauthenticated, 'the authorization header is not a bearer token', { reason: 'invalid_token' });
  }
  return token;
}
