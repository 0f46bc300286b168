import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { user } from '@baton/contracts/http';
import type { Database } from '@baton/kit/db';
import { signalOf } from '@baton/kit/service';
import type { PasswordHasher } from '../password-hasher.ts';
import { insertUser } from '../users/repository.ts';
import { userView } from '../users/user.ts';
import { registerBody } from './schemas.ts';

// An email, a name and a password fit in well under a kilobyte.
const bodyLimitBytes = 16 * 1024;

/** POST /v1/users: creates an account; 409 naming the email when it is taken. */
export function registerRegisterRoute(app: FastifyInstance, { db, passwords }: { db: Database; passwords: PasswordHasher }): void {
  app.withTypeProvider<ZodTypeProvider>().post('/v1/users', {
    bodyLimit: bodyLimitBytes,
    schema: { body: registerBody, response: { 201: user } },
  }, async function registerUser(request, reply) {
    const { email, name, password } = request.body;
    const signal = signalOf(request);
    const passwordHash = await passwords.hash(password, { signal });
    const row = await insertUser(db, { email, name, passwordHash }, { signal });
    return reply.code(201).header('location', `/v1/users/${row.id}`).send(userView(row));
  });
}
