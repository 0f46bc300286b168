import type { Database, QueryOptions } from '@baton/kit/db';
import { Code, KitError } from '@baton/kit/errors';
import { productColumns, type ProductRow } from '../catalogue/product.ts';
import { audit, type StaffActor } from './audit.ts';

export interface NewProduct {
  sku: string;
  name: string;
  description: string;
  category: string;
  priceCents: number;
  currency: string;
}

export type ProductChanges = Partial<Pick<NewProduct, 'name' | 'description' | 'category' | 'priceCents'>>;

/**
 * Adds a product, with no stock (stock comes in as a movement), and audits it; `already_exists`
 * (409) naming the SKU when it is taken. The primary key decides, not a look-up first.
 */
export async function createProduct(db: Database, actor: StaffActor, product: NewProduct, { signal }: QueryOptions): Promise<ProductRow> {
  return db.transaction(async (tx) => {
    const { rows } = await tx.query<ProductRow>(
      `insert into products (sku, name, description, category, price_cents, currency, stock) values ($1, $2, $3, $4, $5, $6, 0)
       on conflict (sku) do nothing returning ${productColumns}`,
      [product.sku, product.name, product.description, product.category, product.priceCents, product.currency], { signal });
    const row = rows[0];
    if (row === undefined) {
      throw new KitError(Code.AlreadyExists, `a product with SKU ${product.sku} already exists`, {
        reason: 'product_exists', fields: [{ field: 'body.sku', message: 'already taken' }], details: { sku: product.sku },
      });
    }
    await audit(tx, actor, 'product.created', row.sku, { ...product }, { signal });
    return row;
  }, { signal });
}

// The columns a change may touch, by the field that carries it: the only text that goes into the SQL.
const changeColumns = { name: 'name', description: 'description', category: 'category', priceCents: 'price_cents' } as const;

/**
 * Changes the given fields of a product and audits what they were and what they became; 404 for
 * an unknown SKU. The row is locked for the change, so the audit's "before" is what was replaced.
 */
export async function updateProduct(db: Database, actor: StaffActor, sku: string, changes: ProductChanges, { signal }: QueryOptions): Promise<ProductRow> {
  const fields = (Object.keys(changeColumns) as Array<keyof typeof changeColumns>).filter((field) => changes[field] !== undefined);
  return db.transaction(async (tx) => {
    const { rows: [before] } = await tx.query<ProductRow>(`select ${productColumns} from products where sku = $1 for update`, [sku], { signal });
    if (before === undefined) throw new KitError(Code.NotFound, 'no such product', { details: { sku } });
    const assignments = fields.map((field, i) => `${changeColumns[field]} = $${i + 2}`);
    const { rows: [after] } = await tx.query<ProductRow>(
      `update products set ${assignments.join(', ')}, updated_at = now() where sku = $1 returning ${productColumns}`,
      [sku, ...fields.map((field) => changes[field])], { signal });
    if (after === undefined) throw new Error('the locked product was not updated');
    const was = Object.fromEntries(fields.map((field) => [field, before[changeColumns[field]]]));
    await audit(tx, actor, 'product.updated', sku, { was, now: Object.fromEntries(fields.map((field) => [field, changes[field]])) }, { signal });
    return after;
  }, { signal });
}
