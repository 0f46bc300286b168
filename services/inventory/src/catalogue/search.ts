import type { Queryable, QueryOptions } from '@baton/kit/db';
import { productColumns, type ProductRow } from './product.ts';

import type { z } from 'zod';
import type { productSort } from '@baton/contracts/http';

/** The public API's sorts (contracts/http/shop-api.ts). */
export type ProductSort = z.output<typeof productSort>;

export interface ProductSearch {
  /** Words to search for (PostgreSQL's web search syntax); the only way to `relevance`. */
  q?: string | undefined;
  category?: string | undefined;
  minPriceCents?: number | undefined;
  maxPriceCents?: number | undefined;
  sort: ProductSort;
  limit: number;
  /** Where the previous page ended: its last row's sort key and SKU. */
  after?: { key: string | number; sku: string } | undefined;
}

/** A product with the value it was sorted by, which the next page's cursor starts after. */
export type RankedProductRow = ProductRow & { sort_key: string | number };

// What each sort orders by, then by SKU, so that every row has one place and a page ends at
// one. The expressions are fixed text: nothing a caller sends is ever written into the SQL.
const sortKeys: Record<ProductSort, { expression: string; descending: boolean }> = {
  // ts_rank is a `real`; the key is compared as one, so a cursor's rank matches its row's exactly.
  relevance: { expression: 'ts_rank(search, query)', descending: true },
  name: { expression: 'name', descending: false },
  price: { expression: 'price_cents', descending: false },
  '-price': { expression: 'price_cents', descending: true },
  sku: { expression: 'sku', descending: false },
};
const keyTypes: Record<ProductSort, 'real' | 'text' | 'integer'> = { relevance: 'real', name: 'text', price: 'integer', '-price': 'integer', sku: 'text' };

/**
 * Whether a page's key can be held by what its sort orders by (its `keyTypes` entry). A cursor
 * is readable and can be forged: a key that does not fit would otherwise be a cast error in the
 * database rather than the caller's 400.
 */
export function keyFitsSort(key: string | number, sort: ProductSort): boolean {
  switch (keyTypes[sort]) {
    case 'integer':
      return Number.isSafeInteger(key) && (key as number) >= 0 && (key as number) <= 2_147_483_647;
    case 'real':
      return typeof key === 'number' && Number.isFinite(key) && Math.abs(key) <= 3.4e38;
    case 'text':
      return typeof key === 'string' && key.length <= 200 && !key.includes('\u0000');
  }
}

/**
 * One page of the catalogue: matching `q` (full-text, English stemming, the name weighing most),
 * in a category, within a price range, in the order asked for. Keyset paging on (sort key, SKU):
 * a page costs the same however deep, and a product changed while a caller pages is seen at
 * most once. Every value the caller sent is a bound parameter; `q` is parsed by
 * `websearch_to_tsquery`, which accepts any text and never fails on syntax.
 */
export async function searchProducts(db: Queryable, search: ProductSearch, { signal }: QueryOptions): Promise<RankedProductRow[]> {
  const params: unknown[] = [];
  const param = (value: unknown) => `$${params.push(value)}`;
  const { expression, descending } = sortKeys[search.sort];
  const from = search.q === undefined ? 'products' : `products, websearch_to_tsquery('english', ${param(search.q)}) as query`;
  const where: string[] = [];
  if (search.q !== undefined) where.push('search @@ query');
  if (search.category !== undefined) where.push(`category = ${param(search.category)}`);
  if (search.minPriceCents !== undefined) where.push(`price_cents >= ${param(search.minPriceCents)}`);
  if (search.maxPriceCents !== undefined) where.push(`price_cents <= ${param(search.maxPriceCents)}`);
  const inner = `select ${productColumns}, ${expression} as sort_key from ${from}${where.length > 0 ? ` where ${where.join(' and ')}` : ''}`;
  let after = '';
  if (search.after !== undefined) {
    const key = `${param(search.after.key)}::${keyTypes[search.sort]}`;
    const sku = param(search.after.sku);
    after = descending
      ? ` where (sort_key < ${key} or (sort_key = ${key} and sku > ${sku}))`
      : ` where (sort_key, sku) > (${key}, ${sku})`;
  }
  const sql = `select * from (${inner}) as matching${after} order by sort_key${descending ? ' desc' : ''}, sku limit ${param(search.limit)}`;
  const { rows } = await db.query<RankedProductRow>(sql, params, { signal });
  return rows;
}

/** The categories and how many products each holds, by name. */
export async function listCategories(db: Queryable, { signal }: QueryOptions): Promise<Array<{ name: string; products: number }>> {
  const { rows } = await db.query<{ name: string; products: number }>(
    'select category as name, count(*)::int as products from products group by category order by category', [], { signal });
  return rows;
}
