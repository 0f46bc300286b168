import type { Database, Queryable, QueryOptions } from '@baton/kit/db';
import { Code, KitError } from '@baton/kit/errors';
import { audit, type StaffActor } from './audit.ts';

export type StockMovementReason = 'restock' | 'correction' | 'damaged' | 'lost' | 'returned';

export interface StockMovementRow {
  id: string;
  sku: string;
  delta: number;
  reason: StockMovementReason;
  note: string | null;
  stock_after: number;
  actor: string;
  created_at: Date;
}

// The id as text (a bigint may pass 2^53). Ordered by the column itself, not by this text.
const movementColumns = 'id::text, sku, delta, reason, note, stock_after, actor, created_at';

/**
 * Moves stock in or out by `delta`, never setting it: one statement adds to what is there (under
 * the row's lock, as checkout's reservations take from it), so a restock racing checkouts loses
 * no unit of either, and the ledger row carries the stock right after. Stock never goes below
 * zero: taking out more than there is (say, what checkouts just reserved) is a 409
 * `insufficient_stock` naming what is left; an unknown SKU is a 404. Audited in the same
 * transaction.
 */
export async function moveStock(
  db: Database,
  actor: StaffActor,
  { sku, delta, reason, note }: { sku: string; delta: number; reason: StockMovementReason; note?: string | undefined },
  { signal }: QueryOptions,
): Promise<StockMovementRow> {
  return db.transaction(async (tx) => {
    const { rows: [moved] } = await tx.query<StockMovementRow>(
      `with moved as (
         update products set stock = stock + $2, updated_at = now() where sku = $1 and stock + $2 >= 0 returning sku, stock
       )
       insert into stock_movements (sku, delta, reason, note, stock_after, actor)
       select sku, $2, $3, $4, stock, $5 from moved
       returning ${movementColumns}`,
      [sku, delta, reason, note ?? null, actor.userId], { signal });
    if (moved === undefined) throw await whyNotMoved(tx, sku, delta, { signal });
    await audit(tx, actor, 'stock.moved', sku, { delta, reason, note: note ?? null, stockAfter: moved.stock_after, movement: moved.id }, { signal });
    return moved;
  }, { signal });
}

async function whyNotMoved(tx: Queryable, sku: string, delta: number, { signal }: QueryOptions): Promise<KitError> {
  const { rows: [product] } = await tx.query<{ stock: number }>('select stock from products where sku = $1', [sku], { signal });
  if (product === undefined) return new KitError(Code.NotFound, 'no such product', { details: { sku } });
  return new KitError(Code.Aborted, `only ${product.stock} of ${sku} in stock: cannot take out ${-delta}`, {
    reason: 'insufficient_stock',
    fields: [{ field: 'body.delta', message: `at least ${-product.stock}` }],
    details: { sku, stock: product.stock },
  });
}

/** A product's movements, newest first, `limit` of them after the movement `beforeId`; NotFound for a SKU the shop does not have. */
export async function listStockMovements(
  db: Queryable, sku: string, { limit, beforeId }: { limit: number; beforeId?: string | undefined }, { signal }: QueryOptions,
): Promise<StockMovementRow[]> {
  const { rows } = beforeId === undefined
    ? await db.query<StockMovementRow>(`select ${movementColumns} from stock_movements where sku = $1 order by stock_movements.id desc limit $2`, [sku, limit], { signal })
    : await db.query<StockMovementRow>(`select ${movementColumns} from stock_movements where sku = $1 and id < $3 order by stock_movements.id desc limit $2`, [sku, limit, beforeId], { signal });
  // No movements is an empty page for a product, and a 404 for a SKU that is none.
  if (rows.length === 0 && (await db.query('select 1 from products where sku = $1', [sku], { signal })).rowCount === 0) {
    throw new KitError(Code.NotFound, 'no such product', { details: { sku } });
  }
  return rows;
}
