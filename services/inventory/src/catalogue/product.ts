/** One of a product's images, as media told of it: where its original and each size are served. */
export interface ProductImage {
  id: string;
  url: string;
  width: number;
  height: number;
  sizes: Array<{ size: number; width: number; height: number; url: string }>;
}

/** A product as the products table stores it (a type, not an interface, so it is a query row). */
export type ProductRow = {
  sku: string;
  name: string;
  description: string;
  category: string;
  images: ProductImage[];
  price_cents: number;
  currency: string;
  stock: number;
};

/** The columns of a ProductRow, for every query that reads one. */
export const productColumns = 'sku, name, description, category, images, price_cents, currency, stock';

/** A product as callers see it: `available` is the stock not held by any reservation. */
export interface ProductView {
  sku: string;
  name: string;
  description: string;
  category: string;
  images: ProductImage[];
  priceCents: number;
  currency: string;
  available: number;
}

export function productView(row: ProductRow): ProductView {
  return {
    sku: row.sku,
    name: row.name,
    description: row.description,
    category: row.category,
    images: row.images,
    priceCents: row.price_cents,
    currency: row.currency,
    available: row.stock,
  };
}
