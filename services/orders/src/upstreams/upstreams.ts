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
 * What checkout needs of the users service, over HTTP (the default) or gRPC
 * (`UPSTREAM_PROTOCOL`); the checkout code does not know which.
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

/** An order's payment as the payment service answers it. */
export interface Payment {
  status: 'authorizing' | 'authorized' | 'declined' | 'captured' | 'voided' | 'refunded';
  amountCents: number;
  currency: string;
  brand: string | null;
  last4: string | null;
  refundedCents: number;
}

/**
 * What checkout needs of the payment service. Every call is idempotent by order id: asked again,
 * it answers the payment as it is and never charges twice. A declined card is KitError
 * FailedPrecondition `payment_declined`; a method the provider does not know, InvalidArgument
 * `unknown_payment_method`.
 */
export interface PaymentApi {
  authorize(orderId: string, input: { amountCents: number; currency: string; method: string }, options: CallOptions): Promise<Payment>;
  capture(orderId: string, options: CallOptions): Promise<Payment>;
  /** Lets go of what is held; an order with no payment yet gets a voided one, so none comes after. */
  void(orderId: string, options: CallOptions): Promise<Payment>;
  refund(orderId: string, options: CallOptions): Promise<Payment>;
}
