import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { pageQuery, product, productPage, skuParams } from '@baton/contracts/http';
import { z } from 'zod';
import type { Database } from '@baton/kit/db';
import { Code, KitError } from '@baton/kit/errors';
import { createPageCursor, signalOf } from '@baton/kit/service';
import { productView } from '../catalogue/product.ts';
import { findProduct, listProducts } from '../catalogue/repository.ts';

// Where a page of products ended: its last SKU.
const productsCursor = createPageCursor(z.strictObject({ after: skuParams.shape.sku }));

/** The catalogue: read-only, paged by SKU. The shapes are the public API's, from contracts. */
export function registerProductRoutes(app: FastifyInstance, { db }: { db: Database }): void {
  const api = app.withTypeProvider<ZodTypeProvider>();
  // Browsing: under overload it is shed first, so that checkouts in progress can finish.
  const config = { priority: 'low', callers: ['gateway'] } as const;

  api.get('/v1/products', { config, schema: { querystring: pageQuery, response: { 200: productPage } } }, async function listProductsPage(request) {
    const { limit, cursor } = request.query;
    // One row more than the page says whether another page follows, so the last page has no
    // cursor and a caller never asks for an empty page.
    const rows = await listProducts(db, { limit: limit + 1, afterSku: productsCursor.decode(cursor)?.after }, { signal: signalOf(request) });
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return {
      items: page.map(productView),
      nextCursor: rows.length > limit && last !== undefined ? productsCursor.encode({ after: last.sku }) : null,
    };
  });

  api.get('/v1/products/:sku', { config, schema: { params: skuParams, response: { 200: product } } }, async function getProduct(request) {
    const row = await findProduct(db, request.params.sku, { signal: signalOf(request) });
    if (row === undefined) throw new KitError(Code.NotFound, 'no such product', { details: { sku: request.params.sku } });
    return productView(row);
  });
}
