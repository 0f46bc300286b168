import type { Queryable, QueryOptions } from '@baton/kit/db';
import { bySku } from './reservation.ts';

/**
 * Puts the stock of some reservations back on the shelf. The caller has just moved those
 * reservations out of held or confirmed in this same transaction, which is what makes the
 * return happen once. Quantities are summed per SKU first, so each product row is touched
 * once, and in the one lock order.
 */
export async function returnStock(tx: Queryable, orderIds: readonly string[], { signal }: QueryOptions): Promise<void> {
  const { rows } = await tx.query<{ sku: string; quantity: number }>(
    `select sku, sum(quantity)::int as quantity from reservation_items
      where order_id = any($1::uuid[]) group by sku`,
    [orderIds], { signal });
  for (const { sku, quantity } of rows.sort(bySku)) {
    await tx.query('update products set stock = stock + $2, updated_at = now() where sku = $1', [sku, quantity], { signal });
  }
}
