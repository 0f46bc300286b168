import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { productImage } from '@baton/contracts/http';
import { z } from '@baton/kit/config';
import type { Database } from '@baton/kit/db';
import { Code, KitError } from '@baton/kit/errors';
import { signalOf } from '@baton/kit/service';
import { addProductImage } from '../catalogue/images.ts';

const imagePathParams = z.strictObject({ sku: z.string().min(1).max(64), id: z.uuid() });

/**
 * PUT /v1/products/:sku/images/:id: media tells the catalogue of an image whose sizes are ready,
 * so a product read shows it without asking media. Only media may; telling twice changes nothing.
 */
export function registerImageRoutes(app: FastifyInstance, { db }: { db: Database }): void {
  app.withTypeProvider<ZodTypeProvider>().put('/v1/products/:sku/images/:id', {
    config: { callers: ['media'] },
    bodyLimit: 16 * 1024,
    schema: { params: imagePathParams, body: productImage },
  }, async function addImage(request, reply) {
    const { sku, id } = request.params;
    if (request.body.id !== id) {
      throw new KitError(Code.InvalidArgument, 'the image is not the one the path names', { fields: [{ field: 'body.id', message: 'expected the id in the path' }] });
    }
    const outcome = await addProductImage(db, sku, request.body, { signal: signalOf(request) });
    request.log.info({ sku, image_id: id, outcome }, outcome === 'added' ? 'product image added' : 'product image already known');
    return reply.code(204).send();
  });
}
