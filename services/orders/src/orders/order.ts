/**
 * confirmed: placed without payment. pending: paid for with a card whose payment is held, not
 * yet taken; paid: taken. cancelled: by its owner, or by checkout when it could not finish.
 */
export type OrderStatus = 'pending' | 'confirmed' | 'paid' | 'cancelled';

/** An order's payment as orders last heard of it from the payment service. */
export interface OrderPayment {
  status: 'authorized' | 'captured' | 'voided' | 'refunded';
  amountCents: number;
  currency: string;
  /** The card's brand and last four digits; never more of it. */
  brand: string | null;
  last4: string | null;
  /** What was given back, and when; 0 and null while nothing was. */
  refundedCents: number;
  refundedAt: string | null;
}

export interface OrderLine {
  sku: string;
  /** The product's name when it was ordered. */
  name: string;
  quantity: number;
  priceCents: number;
}

/** An order as the API shows it. */
export interface Order {
  id: string;
  userId: string;
  status: OrderStatus;
  items: OrderLine[];
  totalCents: number;
  currency: string;
  createdAt: string;
  /** When its status last changed (its placing, at first). */
  updatedAt: string;
  /** When it was cancelled; null while it is not. */
  cancelledAt: string | null;
  /** Null for an order placed without payment. */
  payment: OrderPayment | null;
}

/** The public view: the owner is implied by who asks. */
export function orderView(order: Order) {
  const { userId: _owner, ...view } = order;
  return view;
}
