import { createHash, timingSafeEqual } from 'node:crypto';
import { Code, KitError } from '../errors/index.ts';

function digestOf(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/**
 * Checks an `Authorization: Bearer <admin token>` header against this service's admin token,
 * and throws `unauthenticated` when it does not match. Both sides are hashed first, so the
 * comparison takes the same time whatever was sent, and does not even reveal the length.
 * Without a configured token (`undefined`) nothing matches: the answer is the same 401, so a
 * caller cannot tell a service without a token from a wrong guess.
 *
 * The kit's admin listener runs this before every `/admin/*` route (`admin-listener.ts`); a
 * route registered there needs no check of its own.
 */
export function checkAdminToken(authorizationHeader: string | undefined, adminToken: string | undefined): void {
  const given = digestOf(authorizationHeader ?? '');
  const expected = digestOf(`Bearer ${adminToken ?? ''}`);
  if (adminToken === undefined || !timingSafeEqual(given, expected)) {
    throw new KitError(Code.Unauthenticated, 'an admin token is required', { reason: 'admin_token_required' });
  }
}
