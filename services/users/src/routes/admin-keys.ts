import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Database } from '@baton/kit/db';
import { signalOf } from '@baton/kit/service';
import { rotateSigningKey } from '../tokens/signing-keys.ts';
import { rotatedKeyResponse } from './schemas.ts';

/**
 * POST /admin/keys/rotate, on the admin listener (which wants this service's admin token before
 * any admin route runs): a new key signs from now on, without a restart. The old one stays in
 * the JWKS until the tokens it signed have expired, and verifiers fetch the new one the first
 * time they see its `kid`.
 */
export function registerAdminKeyRoutes(adminApp: FastifyInstance, { db, keyEncryptionKey }: { db: Database; keyEncryptionKey: Buffer }): void {
  adminApp.withTypeProvider<ZodTypeProvider>().post('/admin/keys/rotate', {
    schema: { response: { 201: rotatedKeyResponse } },
  }, async function rotateKeys(request, reply) {
    const { kid, createdAt } = await rotateSigningKey(db, keyEncryptionKey, { signal: signalOf(request) });
    request.log.warn({ kid }, 'signing key rotated');
    return reply.code(201).send({ kid, createdAt: createdAt.toISOString() });
  });
}
