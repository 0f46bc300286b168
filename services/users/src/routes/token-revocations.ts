import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { tokenRevocationsPage, tokenRevocationsPath, tokenRevocationsQuery } from '@baton/kit/auth';
import type { Database } from '@baton/kit/db';
import { signalOf } from '@baton/kit/service';
import { listRevocations } from '../tokens/revocations.ts';

/**
 * GET /v1/token-revocations?since=<cursor>: the revocations still in force made after the
 * cursor, which every verifier polls (the kit's TokenVerifier). For Baton's services only.
 */
export function registerTokenRevocationsRoute(app: FastifyInstance, { db }: { db: Database }): void {
  app.withTypeProvider<ZodTypeProvider>().get(tokenRevocationsPath, {
    config: { callers: 'any-service' },
    schema: { querystring: tokenRevocationsQuery, response: { 200: tokenRevocationsPage } },
  }, async function listTokenRevocations(request, reply) {
    const page = await listRevocations(db, request.query.since, { signal: signalOf(request) });
    reply.header('cache-control', 'no-store');
    return page;
  });
}
