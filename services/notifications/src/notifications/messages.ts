import type { OrderCancelled, OrderCreated, PaymentCaptured, PaymentRefunded, UserRegistered } from '@baton/contracts/events';

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

const cancelledBecause: Readonly<Record<OrderCancelled['reason'], string>> = {
  customer_request: 'as you asked',
  reservation_lost: 'because we could not hold its stock',
  payment_failed: 'because its payment could not be taken',
};

export function orderCancellation(order: OrderCancelled): MessageText {
  return {
    subject: `Your Baton order ${order.orderId.slice(0, 8)} was cancelled`,
    text: [`Your order ${order.orderId} was cancelled ${cancelledBecause[order.reason]}.`, 'Nothing will be charged for it; anything taken for it is given back.'].join('\n'),
  };
}

export function paymentReceipt(payment: PaymentCaptured): MessageText {
  const card = payment.card === null ? 'your payment method' : `your ${payment.card.brand} card ending ${payment.card.last4}`;
  return {
    subject: `Receipt for your Baton order ${payment.orderId.slice(0, 8)}`,
    text: [`We took ${money(payment.amountCents, payment.currency)} from ${card} for your order ${payment.orderId}.`, '', `Paid: ${payment.capturedAt}`].join('\n'),
  };
}

export function refundNotice(payment: PaymentRefunded): MessageText {
  return {
    subject: `Refund for your Baton order ${payment.orderId.slice(0, 8)}`,
    text: [`We gave back ${money(payment.amountCents, payment.currency)} for your order ${payment.orderId}.`, 'It may take a few days to show on your statement.', '', `Refunded: ${payment.refundedAt}`].join('\n'),
  };
}

export function welcome(user: UserRegistered): MessageText {
  return {
    subject: 'Welcome to Baton',
    text: [`Hello ${user.name},`, '', 'your account is ready. Happy shopping!'].join('\n'),
  };
}
