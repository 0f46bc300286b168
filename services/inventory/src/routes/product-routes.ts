import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { createHash } from 'node:crypto';
import { categoryList, product, productPage, productQuery, productSort, skuParams } from '@baton/contracts/http';
import { z } from 'zod';
import type { Database } from '@baton/kit/db';
import { Code, KitError } from '@baton/kit/errors';
import { createPageCursor, signalOf } from '@baton/kit/service';
import { productView } from '../catalogue/product.ts';
import { findProduct } from '../catalogue/repository.ts';
import { keyFitsSort, listCategories, searchProducts, type ProductSearch, type ProductSort } from '../catalogue/search.ts';

// Where a page ended (its last row's sort key and SKU), for which search and order: a cursor
// brought back with another search or sort would start at a place that means nothing there.
const productsCursor = createPageCursor(z.strictObject({
  search: z.string(),
  sort: productSort,
  key: z.union([z.string(), z.number()]),
  after: skuParams.shape.sku,
}));

/** What a cursor is bound to: the filters, in a short digest (a cursor carries no search words). */
function searchDigest({ q, category, minPriceCents, maxPriceCents }: Pick<ProductSearch, 'q' | 'category' | 'minPriceCents' | 'maxPriceCents'>): string {
  return createHash('sha256').update(JSON.stringify([q ?? null, category ?? null, minPriceCents ?? null, maxPriceCents ?? null])).digest('base64url').slice(0, 16);
}

/** The catalogue: searched, filtered, sorted and paged. The shapes are the public API's, from contracts. */
export function registerProductRoutes(app: FastifyInstance, { db }: { db: Database }): void {
  const api = app.withTypeProvider<ZodTypeProvider>();
  // Browsing: under overload it is shed first, so that checkouts in progress can finish.
  const config = { priority: 'low', callers: ['gateway'] } as const;

  api.get('/v1/products', { config, schema: { querystring: productQuery, response: { 200: productPage } } }, async function listProductsPage(request) {
    const { limit, cursor, q, category, minPriceCents, maxPriceCents } = request.query;
    const sort: ProductSort = request.query.sort ?? (q === undefined ? 'sku' : 'relevance');
    const search = searchDigest({ q, category, minPriceCents, maxPriceCents });
    const position = productsCursor.decode(cursor);
    if (position !== undefined && (position.search !== search || position.sort !== sort)) {
      throw new KitError(Code.InvalidArgument, 'the cursor is not valid', { fields: [{ field: 'query.cursor', message: 'from another search or sort: start again without it' }] });
    }
    if (position !== undefined && !keyFitsSort(position.key, sort)) {
      throw new KitError(Code.InvalidArgument, 'the cursor is not valid', { fields: [{ field: 'query.cursor', message: 'not a cursor this API gave out' }] });
    }
    // One row more than the page says whether another page follows, so the last page has no
    // cursor and a caller never asks for an empty page.
    const rows = await searchProducts(db, {
      q, category, minPriceCents, maxPriceCents, sort, limit: limit + 1,
      after: position === undefined ? undefined : { key: position.key, sku: position.after },
    }, { signal: signalOf(request) });
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return {
      items: page.map(productView),
      nextCursor: rows.length > limit && last !== undefined ? productsCursor.encode({ search, sort, key: last.sort_key, after: last.sku }) : null,
    };
  });

  // Media asks too, before it takes an image for a product.
  api.get('/v1/products/:sku', { config: { ...config, callers: ['gateway', 'media'] }, schema: { params: skuParams, response: { 200: product } } }, async function getProduct(request) {
    const row = await findProduct(db, request.params.sku, { signal: signalOf(request) });
    if (row === undefined) throw new KitError(Code.NotFound, 'no such product', { details: { sku: request.params.sku } });
    return productView(row);
  });

  api.get('/v1/categories', { config, schema: { response: { 200: categoryList } } }, async function getCategories(request) {
    return { items: await listCategories(db, { signal: signalOf(request) }) };
  });
}
