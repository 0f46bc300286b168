import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { tokenResponse } from '@baton/contracts/http';
import type { Database } from '@baton/kit/db';
import { Code, KitError } from '@baton/kit/errors';
import { signalOf } from '@baton/kit/service';
import type { PasswordHasher } from '../password-hasher.ts';
import type { SignInThrottle } from '../sign-in-throttle.ts';
import type { AccessTokenIssuer } from '../tokens/access-tokens.ts';
import { openSession, sessionAnswer, type SessionSettings } from '../tokens/sessions.ts';
import { findUserByEmail, replacePasswordHash } from '../users/repository.ts';
import { loginBody } from './schemas.ts';

const bodyLimitBytes = 16 * 1024;

export interface LoginRouteDeps {
  db: Database;
  passwords: PasswordHasher;
  tokens: AccessTokenIssuer;
  throttle: SignInThrottle;
  sessions: SessionSettings;
}

/**
 * POST /v1/auth/login: an email and password for a new session: a short-lived access token and a
 * refresh token (sessions.ts). A wrong password
 * and an unknown email get the same answer after the same work (a hash is checked either way),
 * so neither the answer nor its timing says whether an account exists. Each attempt is counted
 * against the email first (see sign-in-throttle.ts), known or not: past a few wrong ones the
 * account waits, doubling each time, and is answered 429 before any hash is computed.
 */
export function registerLoginRoute(app: FastifyInstance, { db, passwords, tokens, throttle, sessions }: LoginRouteDeps): void {
  app.withTypeProvider<ZodTypeProvider>().post('/v1/auth/login', {
    config: { callers: ['gateway'] },
    bodyLimit: bodyLimitBytes,
    schema: { body: loginBody, response: { 200: tokenResponse } },
  }, async function login(request, reply) {
    const { email, password } = request.body;
    const signal = signalOf(request);
    // A token must not be kept by any cache between here and the caller (RFC 6749 5.1); set
    // first, so an error answer carries it too.
    void reply.header('cache-control', 'no-store');
    await throttle.begin(db, email, { signal });
    const user = await findUserByEmail(db, email, { signal });
    const matches = await passwords.verify(password, user?.password_hash, { signal });
    if (user === undefined || !matches) {
      throw new KitError(Code.Unauthenticated, 'the email or password is not right', { reason: 'wrong_credentials' });
    }
    if (passwords.needsRehash(user.password_hash)) {
      // The cost was changed since this hash was made, and the password is at hand only now.
      // Best effort: a sign-in that is right does not fail for it, and the next one tries again.
      try {
        const upgraded = await passwords.hash(password, { signal });
        await replacePasswordHash(db, user.id, { from: user.password_hash, to: upgraded }, { signal });
      } catch (error) {
        signal.throwIfAborted();
        request.log.warn({ err: error }, 'could not redo a password hash with the current parameters');
      }
    }
    await throttle.succeeded(db, email, { signal });
    const session = await db.transaction((tx) => openSession(tx, user.id, sessions, { signal }), { signal });
    return sessionAnswer(tokens, user, session, { signal });
  });
}
