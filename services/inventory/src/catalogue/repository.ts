import type { Queryable, QueryOptions } from '@baton/kit/db';
import type { ProductRow } from './product.ts';

const columns = 'sku, name, price_cents, currency, stock';

/**
 * One page of the catalogue in SKU order, starting after `afterSku`. Keyset paging: each page
 * is an index range scan on the primary key, however deep the caller has paged.
 */
export async function listProducts(
  db: Queryable,
  { limit, afterSku }: { limit: number; afterSku: string | undefined },
  { signal }: QueryOptions,
): Promise<ProductRow[]> {
  const { rows } = afterSku === undefined
    ? await db.query<ProductRow>(`select ${columns} from products order by sku limit $1`, [limit], { signal })
    : await db.query<ProductRow>(`select ${columns} from products where sku > $1 order by sku limit $2`, [afterSku, limit], { signal });
  return rows;
}

export async function findProduct(db: Queryable, sku: string, { signal }: QueryOptions): Promise<ProductRow | undefined> {
  const { rows } = await db.query<ProductRow>(`select ${columns} from products where sku = $1`, [sku], { signal });
  return rows[0];
}
