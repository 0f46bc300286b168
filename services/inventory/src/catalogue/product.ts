/** A product as the products table stores it (a type, not an interface, so it is a query row). */
export type ProductRow = {
  sku: string;
  name: string;
  price_cents: number;
  currency: string;
  stock: number;
};

/** A product as callers see it: `available` is the stock not held by any reservation. */
export interface ProductView {
  sku: string;
  name: string;
  priceCents: number;
  currency: string;
  available: number;
}

export function productView(row: ProductRow): ProductView {
  return { sku: row.sku, name: row.name, priceCents: row.price_cents, currency: row.currency, available: row.stock };
}
