import type { OrderCancelled, OrderCreated, UserRegistered } from '@baton/contracts/events';

export interface MessageText {
  subject: string;
  text: string;
}

function money(cents: number, currency: string): string {
  return `${(cents / 100).toFixed(2)} ${currency}`;
}

export function orderConfirmation(order: OrderCreated): MessageText {
  // An event from before lines carried names has only the SKU to show.
  const lines = order.items.map((item) => `  ${item.quantity} × ${item.name === undefined ? item.sku : `${item.name} (${item.sku})`} at ${money(item.priceCents, order.currency)}`
    + ` = ${money(item.quantity * item.priceCents, order.currency)}`);
  return {
    subject: `Your Baton order ${order.orderId.slice(0, 8)} is confirmed`,
    text: [`Hello ${order.customer.name},`, '', 'thank you for your order:', '', ...lines, '',
      `Total: ${money(order.totalCents, order.currency)}`, `Order: ${order.orderId}`].join('\n'),
  };
}

export function orderCancellation(order: OrderCancelled): MessageText {
  const why = order.reason === 'customer_request' ? 'as you asked' : 'because we could not hold its stock';
  return {
    subject: `Your Baton order ${order.orderId.slice(0, 8)} was cancelled`,
    text: [`Your order ${order.orderId} was cancelled ${why}.`, 'Nothing will be charged for it.'].join('\n'),
  };
}

export function welcome(user: UserRegistered): MessageText {
  return {
    subject: 'Welcome to Baton',
    text: [`Hello ${user.name},`, '', 'your account is ready. Happy shopping!'].join('\n'),
  };
}
