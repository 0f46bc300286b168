import type { CallOptions } from './call-options.ts';

export interface ReservedLine {
  sku: string;
  quantity: number;
  priceCents: number;
  currency: string;
  /** The product's name; its SKU when an inventory from before names were sent says none. */
  name: string;
}

export interface Reservation {
  orderId: string;
  status: 'held' | 'confirmed' | 'released' | 'expired';
  items: ReservedLine[];
}

/**
 * What checkout needs of the users service. Implemented over HTTP now and over gRPC later;
 * the checkout code does not know which.
 */
export interface UsersApi {
  /** Throws KitError NotFound when there is no such user. */
  getUser(userId: string, options: CallOptions): Promise<{ id: string; email: string; name: string }>;
}

/** What checkout needs of the inventory service. Every call is idempotent by order id. */
export interface InventoryApi {
  /** All lines or none; throws KitError Aborted (reason out_of_stock) naming the short SKUs. */
  reserve(orderId: string, items: Array<{ sku: string; quantity: number }>, options: CallOptions): Promise<Reservation>;
  confirm(orderId: string, options: CallOptions): Promise<Reservation>;
  release(orderId: string, options: CallOptions): Promise<Reservation>;
}
