import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { logoutBody } from '@baton/contracts/http';
import { bearerTokenOf } from '@baton/kit/auth';
import type { Database } from '@baton/kit/db';
import { signalOf } from '@baton/kit/service';
import type { OwnTokenVerifier } from '../tokens/own-token-verifier.ts';
import { revokeToken, revokeTokensOfUser } from '../tokens/revocations.ts';
import { revokeSession, revokeSessionsOfUser } from '../tokens/sessions.ts';

export interface SignOutRouteDeps {
  db: Database;
  tokens: OwnTokenVerifier;
  /** How long a revocation is kept past the token's `exp`: the clocks' tolerance, and some. */
  slackSeconds: number;
  /** The longest any token lives (TOKEN_MAX_AGE_SECONDS): how long a cut-off for all of a user's tokens matters. */
  tokenLifetimeSeconds: number;
}

/**
 * POST /v1/auth/logout (Bearer): revokes the token presented and ends its session (its refresh
 * token is refused from now on), or with `{ "allSessions": true }` every token of its user
 * issued until now and every session. Every service refuses it within its revocation
 * poll (TOKEN_REVOCATIONS_POLL_MS), this one at once. 204; a token already refused gets 401.
 */
export function registerSignOutRoute(app: FastifyInstance, { db, tokens, slackSeconds, tokenLifetimeSeconds }: SignOutRouteDeps): void {
  app.withTypeProvider<ZodTypeProvider>().post('/v1/auth/logout', {
    config: { callers: ['gateway'] },
    bodyLimit: 1024,
    // A bare POST (no body, which Fastify reads as null) signs out this token, as `{}` does.
    schema: { body: logoutBody.nullish() },
  }, async function signOut(request, reply) {
    const signal = signalOf(request);
    const token = await tokens.verify(bearerTokenOf(request.headers.authorization), { signal });
    if (request.body?.allSessions === true) {
      await db.transaction(async (tx) => {
        await revokeSessionsOfUser(tx, token.userId, 'sign_out', { signal });
        await revokeTokensOfUser(tx, token.userId, { tokenLifetimeSeconds: tokenLifetimeSeconds + slackSeconds }, { signal });
      }, { signal });
    } else {
      if (token.sessionId !== undefined) await revokeSession(db, token.sessionId, 'sign_out', { signal });
      await revokeToken(db, { userId: token.userId, tokenId: token.tokenId, expiresAt: token.expiresAt }, { slackSeconds }, { signal });
    }
    request.log.info({ user_id: token.userId, all_sessions: request.body?.allSessions === true }, 'signed out');
    return reply.code(204).send();
  });
}
