import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { user } from '@baton/contracts/http';
import { bearerTokenOf } from '@baton/kit/auth';
import type { Database } from '@baton/kit/db';
import { Code, KitError } from '@baton/kit/errors';
import { signalOf } from '@baton/kit/service';
import type { OwnTokenVerifier } from '../tokens/own-token-verifier.ts';
import { findUserById } from '../users/repository.ts';
import { userView } from '../users/user.ts';
import { userParams } from './schemas.ts';

export interface UserRoutesDeps {
  db: Database;
  tokens: OwnTokenVerifier;
}

/**
 * Reading accounts: `GET /v1/users/me` for the bearer of an access token, and
 * `GET /v1/users/:id` for other services (orders checks that a user exists). The router
 * prefers the static `/me` to the parameter, and `me` is no UUID anyway.
 */
export function registerUserRoutes(app: FastifyInstance, { db, tokens }: UserRoutesDeps): void {
  const api = app.withTypeProvider<ZodTypeProvider>();

  api.get('/v1/users/me', { config: { callers: ['gateway'] }, schema: { response: { 200: user } } }, async function getMe(request) {
    const signal = signalOf(request);
    const { userId } = await tokens.verify(bearerTokenOf(request.headers.authorization), { signal });
    const row = await findUserById(db, userId, { signal });
    // A valid token for an account that is gone: the caller must sign in again.
    if (row === undefined) throw new KitError(Code.Unauthenticated, 'this account no longer exists', { reason: 'account_gone' });
    return userView(row);
  });

  api.get('/v1/users/:id', { config: { callers: ['orders'] }, schema: { params: userParams, response: { 200: user } } }, async function getUser(request) {
    const row = await findUserById(db, request.params.id, { signal: signalOf(request) });
    if (row === undefined) throw new KitError(Code.NotFound, 'no such user', { details: { id: request.params.id } });
    return userView(row);
  });
}
