import type { Queryable, QueryOptions } from '@baton/kit/db';
import { productColumns, type ProductRow } from './product.ts';

export async function findProduct(db: Queryable, sku: string, { signal }: QueryOptions): Promise<ProductRow | undefined> {
  const { rows } = await db.query<ProductRow>(`select ${productColumns} from products where sku = $1`, [sku], { signal });
  return rows[0];
}
