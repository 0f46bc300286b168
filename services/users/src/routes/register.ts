import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { userRegistered } from '@baton/contracts/events';
import { user } from '@baton/contracts/http';
import type { Database } from '@baton/kit/db';
import type { Outbox } from '@baton/kit/messaging';
import { signalOf } from '@baton/kit/service';
import type { PasswordHasher } from '../password-hasher.ts';
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

/**
 * POST /v1/users: creates an account; 409 naming the email when it is taken. The account and
 * its `user.registered` event commit in one transaction.
 */
export function registerRegisterRoute(app: FastifyInstance, { db, passwords, events }: { db: Database; passwords: PasswordHasher; events: UserEvents }): void {
  app.withTypeProvider<ZodTypeProvider>().post('/v1/users', {
    config: { callers: ['gateway'] },
    bodyLimit: bodyLimitBytes,
    schema: { body: registerBody, response: { 201: user } },
  }, async function registerUser(request, reply) {
    const { email, name, password } = request.body;
    const signal = signalOf(request);
    const passwordHash = await passwords.hash(password, { signal });
    const traceparent = typeof request.headers.traceparent === 'string' ? request.headers.traceparent : undefined;
    const row = await db.transaction(async (tx) => {
      const inserted = await insertUser(tx, { email, name, passwordHash }, { signal });
      await events.outbox.add(tx, userRegistered, {
        aggregateId: inserted.id,
        traceparent,
        data: { userId: inserted.id, email: inserted.email, name: inserted.name, registeredAt: new Date().toISOString() },
      }, { signal });
      return inserted;
    }, { signal });
    events.committed();
    return reply.code(201).header('location', `/v1/users/${row.id}`).send(userView(row));
  });
}
