import type { Database, QueryOptions } from '@baton/kit/db';
import { Code, KitError } from '@baton/kit/errors';
import type { ProductImage } from './product.ts';

/**
 * Adds an image to a product's list, once: media tells of each image when its sizes are ready,
 * and may tell again (a redelivery), which changes nothing. `not_found` when there is no such
 * product (media checked it at upload; products are never deleted, so this is a bug's sign).
 */
export async function addProductImage(db: Database, sku: string, image: ProductImage, { signal }: QueryOptions): Promise<'added' | 'known'> {
  const { rows } = await db.query<{ added: boolean }>(
    `with target as (select sku, images from products where sku = $1 for update)
     update products p set images = p.images || jsonb_build_array($2::jsonb), updated_at = now()
       from target
      where p.sku = target.sku and not exists (select 1 from jsonb_array_elements(target.images) e where e->>'id' = $3)
     returning true as added`,
    [sku, JSON.stringify(image), image.id], { signal });
  if (rows.length > 0) return 'added';
  const { rows: found } = await db.query('select 1 from products where sku = $1', [sku], { signal });
  if (found.length === 0) throw new KitError(Code.NotFound, 'no such product', { reason: 'product_not_found', details: { sku } });
  return 'known';
}
