import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Database } from '@baton/kit/db';
import { signalOf } from '@baton/kit/service';
import { listPublishedKeys } from '../tokens/signing-keys.ts';
import { jwksResponse } from './schemas.ts';

export interface JwksRouteDeps {
  db: Database;
  /** How long a retired key stays published: long enough for every token it signed to expire. */
  retiredForSeconds: number;
}

/**
 * GET /.well-known/jwks.json: the public keys every verifier needs (RFC 7517). Read from the
 * database at every call, so all replicas publish a rotation at once.
 */
export function registerJwksRoute(app: FastifyInstance, { db, retiredForSeconds }: JwksRouteDeps): void {
  app.withTypeProvider<ZodTypeProvider>().get('/.well-known/jwks.json', {
    // Public keys, fetched by every verifier with jose's own fetch (no service token).
    config: { callers: 'public' },
    schema: { response: { 200: jwksResponse } },
  }, async function getJwks(request, reply) {
    const keys = await listPublishedKeys(db, { retiredForSeconds }, { signal: signalOf(request) });
    // A new key signs as soon as it is made, so no cache between here and a verifier may
    // answer with a set from before it: it must ask again every time.
    reply.header('cache-control', 'no-cache');
    return { keys };
  });
}
