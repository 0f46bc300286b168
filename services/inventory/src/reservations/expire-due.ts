import type { Database, QueryOptions } from '@baton/kit/db';
import { returnStock } from './return-stock.ts';

/**
 * Expires up to `batchSize` held reservations past their time and returns their stock, in one
 * transaction; answers how many it expired.
 *
 * Several replicas may sweep at once: `for update skip locked` gives each its own rows, and a
 * reservation being confirmed or released right now is skipped, not waited for.
 */
export async function expireDue(db: Database, { batchSize }: { batchSize: number }, { signal }: QueryOptions): Promise<number> {
  return db.transaction(async (tx) => {
    const { rows } = await tx.query<{ order_id: string }>(
      // Materialized, so the locking select runs exactly once and the update sees its rows.
      `with due as materialized (
         select order_id from reservations
          where status = 'held' and expires_at <= now()
          order by expires_at
          limit $1
          for update skip locked)
       update reservations r set status = 'expired', updated_at = now()
         from due where r.order_id = due.order_id and r.status = 'held'
       returning r.order_id`,
      [batchSize], { signal });
    if (rows.length > 0) await returnStock(tx, rows.map((row) => row.order_id), { signal });
    return rows.length;
  }, { signal });
}
