import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { bearerTokenOf } from '@baton/kit/auth';
import type { Database } from '@baton/kit/db';
import { Code, KitError } from '@baton/kit/errors';
import { signalOf } from '@baton/kit/service';
import type { PasswordHasher } from '../password-hasher.ts';
import type { OwnTokenVerifier } from '../tokens/own-token-verifier.ts';
import { revokeTokensOfUser } from '../tokens/revocations.ts';
import { revokeSessionsOfUser } from '../tokens/sessions.ts';
import { findUserById } from '../users/repository.ts';
import { changePasswordBody } from './schemas.ts';

export interface PasswordRouteDeps {
  db: Database;
  passwords: PasswordHasher;
  tokens: OwnTokenVerifier;
  /** The longest any token lives plus the clocks' slack: how long the cut-off must be published. */
  tokenLifetimeSeconds: number;
}

/**
 * POST /v1/users/me/password (Bearer): the current password and a new one. The new hash and the
 * revocation of every token issued before (and of every session, so no refresh token outlives
 * it) commit together, so the old password and every session opened with it end at once (the caller signs in again with the new one). 204.
 */
export function registerPasswordRoute(app: FastifyInstance, { db, passwords, tokens, tokenLifetimeSeconds }: PasswordRouteDeps): void {
  app.withTypeProvider<ZodTypeProvider>().post('/v1/users/me/password', {
    config: { callers: ['gateway'] },
    bodyLimit: 16 * 1024,
    schema: { body: changePasswordBody },
  }, async function changePassword(request, reply) {
    const signal = signalOf(request);
    const { userId } = await tokens.verify(bearerTokenOf(request.headers.authorization), { signal });
    const user = await findUserById(db, userId, { signal });
    if (user === undefined) throw new KitError(Code.Unauthenticated, 'this account no longer exists', { reason: 'account_gone' });
    if (!await passwords.verify(request.body.currentPassword, user.password_hash, { signal })) {
      throw new KitError(Code.PermissionDenied, 'the current password is not right', {
        reason: 'wrong_password',
        fields: [{ field: 'body.currentPassword', message: 'not the current password' }],
      });
    }
    const newHash = await passwords.hash(request.body.newPassword, { signal });
    const changed = await db.transaction(async (tx) => {
      // Only if the hash is still the one just checked: of two changes at once, one wins.
      const { rowCount } = await tx.query('update users set password_hash = $3 where id = $1 and password_hash = $2',
        [userId, user.password_hash, newHash], { signal });
      if (rowCount === 0) return false;
      await revokeTokensOfUser(tx, userId, { tokenLifetimeSeconds }, { signal });
      await revokeSessionsOfUser(tx, userId, 'password_change', { signal });
      return true;
    }, { signal });
    // Of two changes at once this one lost: the password it named is no longer the current one.
    if (!changed) {
      throw new KitError(Code.PermissionDenied, 'the current password is not right: it was changed meanwhile', {
        reason: 'wrong_password',
        fields: [{ field: 'body.currentPassword', message: 'no longer the current password' }],
      });
    }
    request.log.info({ user_id: userId }, 'password changed; earlier tokens revoked');
    return reply.code(204).send();
  });
}
