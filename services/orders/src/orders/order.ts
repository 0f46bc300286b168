export type OrderStatus = 'pending' | 'confirmed' | 'cancelled';

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
}

/** The public view: the owner is implied by who asks. */
export function orderView(order: Order) {
  const { userId: _owner, ...view } = order;
  return view;
}
