import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { refreshBody, tokenResponse } from '@baton/contracts/http';
import type { Database } from '@baton/kit/db';
import { signalOf } from '@baton/kit/service';
import type { AccessTokenIssuer } from '../tokens/access-tokens.ts';
import { refreshSession, type SessionSettings } from '../tokens/sessions.ts';

/**
 * POST /v1/auth/refresh: a refresh token for a new access token and a new refresh token, in the
 * same session (sessions.ts: each is good once; a second use ends the session). 401 with its
 * reason for one that is unknown, used, expired or of an ended session.
 */
export function registerRefreshRoute(app: FastifyInstance, { db, tokens, sessions }: { db: Database; tokens: AccessTokenIssuer; sessions: SessionSettings }): void {
  app.withTypeProvider<ZodTypeProvider>().post('/v1/auth/refresh', {
    config: { callers: ['gateway'] },
    bodyLimit: 1024,
    schema: { body: refreshBody, response: { 200: tokenResponse } },
  }, async function refresh(request, reply) {
    void reply.header('cache-control', 'no-store');
    return refreshSession(db, tokens, request.body.refreshToken, sessions, { signal: signalOf(request) });
  });
}
