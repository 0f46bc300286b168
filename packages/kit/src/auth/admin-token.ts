import { createHash, timingSafeEqual } from 'node:crypto';
import { Code, KitError } from '../errors/index.ts';

function digestOf(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/**
 * Checks an `Authorization: Bearer <admin token>` header against the configured admin token,
 * and throws `unauthenticated` when it does not match. Both sides are hashed first, so the
 * comparison takes the same time whatever was sent, and does not even reveal the length.
 *
 * @example
 * app.post('/admin/keys/rotate', { onRequest: async (request) => checkAdminToken(request.headers.authorization, adminToken) }, rotate);
 */
export function checkAdminToken(authorizationHeader: string | undefined, adminToken: string): void {
  const given = digestOf(authorizationHeader ?? '');
  const expected = digestOf(`Bearer ${adminToken}`);
  if (!timingSafeEqual(given, expected)) {
    throw new KitError(Code.Unauthenticated, 'an admin token is required', { reason: 'admin_token_required' });
  }
}
