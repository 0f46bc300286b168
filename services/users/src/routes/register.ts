import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { userRegistered } from '@baton/contracts/events';
import { registeredUser } from '@baton/contracts/http';
import type { Database } from '@baton/kit/db';
import type { Outbox } from '@baton/kit/messaging';
import { signalOf } from '@baton/kit/service';
import type { PasswordHasher } from '../password-hasher.ts';
import type { AccessTokenIssuer } from '../tokens/access-tokens.ts';
import { openSession, sessionAnswer, type SessionSettings } from '../tokens/sessions.ts';
import { insertUser } from '../users/repository.ts';
import { userView } from '../users/user.ts';
import { registerBody } from './schemas.ts';

// An email, a name and a password fit in well under a kilobyte.
const bodyLimitBytes = 16 * 1024;

export interface UserEvents {
  outbox: Outbox;
  /** Publish soon rather than at the relay's next poll. */
  committed(): void;
}

export interface RegisterRouteDeps {
  db: Database;
  passwords: PasswordHasher;
  events: UserEvents;
  /** Emails made `staff` when they sign up (STAFF_EMAILS). */
  staffEmails: ReadonlySet<string>;
  tokens: AccessTokenIssuer;
  sessions: SessionSettings;
}

/**
 * POST /v1/users: creates an account and signs it in: the answer carries the account and its
 * first session (as a sign-in's), so a new shopper is not asked for the password twice (nor is
 * it hashed twice). 409 naming the email when it is taken. The account, its `user.registered`
 * event and the session commit in one transaction. An email in STAFF_EMAILS is made staff.
 */
export function registerRegisterRoute(app: FastifyInstance, { db, passwords, events, staffEmails, tokens, sessions }: RegisterRouteDeps): void {
  app.withTypeProvider<ZodTypeProvider>().post('/v1/users', {
    config: { callers: ['gateway'] },
    bodyLimit: bodyLimitBytes,
    schema: { body: registerBody, response: { 201: registeredUser } },
  }, async function registerUser(request, reply) {
    const { email, name, password } = request.body;
    const signal = signalOf(request);
    const passwordHash = await passwords.hash(password, { signal });
    const traceparent = typeof request.headers.traceparent === 'string' ? request.headers.traceparent : undefined;
    // A token must not be kept by any cache on its way (RFC 6749 5.1).
    void reply.header('cache-control', 'no-store');
    // Signed before the account commits: a failure to sign leaves no account behind, so the
    // client's retry signs up again rather than meeting its own email as taken.
    const { row, signedIn } = await db.transaction(async (tx) => {
      const inserted = await insertUser(tx, { email, name, passwordHash, roles: staffEmails.has(email) ? ['staff'] : [] }, { signal });
      await events.outbox.add(tx, userRegistered, {
        aggregateId: inserted.id,
        traceparent,
        data: { userId: inserted.id, email: inserted.email, name: inserted.name, registeredAt: new Date().toISOString() },
      }, { signal });
      const session = await openSession(tx, inserted.id, sessions, { signal });
      return { row: inserted, signedIn: await sessionAnswer(tokens, inserted, session, { signal }) };
    }, { signal });
    events.committed();
    return reply.code(201).header('location', `/v1/users/${row.id}`).send({ ...userView(row), session: signedIn });
  });
}
