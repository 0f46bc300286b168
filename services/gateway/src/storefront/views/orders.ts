import type { z } from 'zod';
import type { notificationPage, order } from '@baton/contracts/http';
import type { Trouble } from '../trouble.ts';
import { money, when } from './format.ts';
import { html, type PageContext, type View } from './html.ts';
import { doneNotice, layout, troubleNotice } from './layout.ts';

export type Order = z.output<typeof order>;
type Notification = z.output<typeof notificationPage>['items'][number];

const statusWords: Record<Order['status'], string> = {
  pending: 'Payment being taken',
  confirmed: 'Placed',
  paid: 'Paid',
  cancelled: 'Cancelled',
};

const paymentWords: Record<NonNullable<Order['payment']>['status'], string> = {
  authorized: 'held on the card, not yet taken',
  captured: 'taken',
  voided: 'let go: nothing was taken',
  refunded: 'given back',
};

function itemCount(item: Order): string {
  const count = item.items.reduce((n, line) => n + line.quantity, 0);
  return `${count} ${count === 1 ? 'item' : 'items'}`;
}

function status(item: Order): View {
  return html`<span class=${`status ${item.status}`}>${statusWords[item.status]}</span>`;
}

export function ordersPage(page: PageContext, orders: readonly Order[], nextHref: string | undefined): View {
  return layout(page, html`
    <h1>Your orders</h1>
    ${orders.length === 0 ? html`<p>No orders yet. <a href="/">Find something you like</a>.</p>` : html`
      <ul class="orders">
        ${orders.map((item) => html`<li>
          <a href=${`/orders/${item.id}`}>Order of ${when(item.createdAt)}</a>
          · ${itemCount(item)} · ${money(item.totalCents, item.currency)} · ${status(item)}
        </li>`)}
      </ul>`}
    ${nextHref === undefined ? '' : html`<p><a class="button" href=${nextHref} rel="next">Older orders</a></p>`}
  `);
}

/**
 * One order. While its payment is being taken, the page's script asks for it again every two
 * seconds (`data-refresh-while`) and the new status is announced when it changes; without
 * scripts, a link does the same.
 */
export function orderPage(page: PageContext, item: Order, notice: string | undefined, trouble: Trouble | undefined): View {
  const pending = item.status === 'pending';
  return layout(page, html`
    <h1>Your order</h1>
    ${doneNotice(notice)}
    ${troubleNotice(trouble, html`<p><a class="button" href=${`/orders/${item.id}`}>Try again</a></p>`)}
    <div data-refresh-while=${pending ? 'pending' : undefined}>
      <p class="order-status">Status: ${status(item)}</p>
      ${pending ? html`<p><a href=${`/orders/${item.id}`}>Refresh</a></p>` : ''}
    </div>
    <table class="lines">
      <caption class="visually-hidden">Items ordered</caption>
      <thead><tr><th scope="col">Product</th><th scope="col">Price</th><th scope="col">Quantity</th><th scope="col">Total</th></tr></thead>
      <tbody>${item.items.map((line) => html`<tr>
        <th scope="row"><a href=${`/products/${line.sku}`}>${line.name}</a></th>
        <td>${money(line.priceCents, item.currency)}</td><td>${line.quantity}</td><td>${money(line.priceCents * line.quantity, item.currency)}</td>
      </tr>`)}</tbody>
    </table>
    <p class="total">Total: <strong>${money(item.totalCents, item.currency)}</strong></p>
    <dl class="facts">
      <dt>Order number</dt><dd><code>${item.id}</code></dd>
      <dt>Placed</dt><dd>${when(item.createdAt)}</dd>
      ${item.payment === null ? '' : html`
        <dt>Payment</dt>
        <dd>${money(item.payment.amountCents, item.payment.currency)} by ${item.payment.brand ?? 'card'}${item.payment.last4 === null ? '' : ` ending ${item.payment.last4}`}: ${paymentWords[item.payment.status]}${item.payment.refundedCents > 0 ? html`; ${money(item.payment.refundedCents, item.payment.currency)} refunded` : ''}</dd>`}
      ${item.cancelledAt === null ? '' : html`<dt>Cancelled</dt><dd>${when(item.cancelledAt)}</dd>`}
    </dl>
    ${item.status === 'cancelled' ? '' : html`
      <form method="post" action=${`/orders/${item.id}/cancel`}>
        <input type="hidden" name="_csrf" value=${page.csrf} />
        <button type="submit">Cancel this order${item.status === 'paid' ? ' and refund it' : ''}</button>
      </form>`}
    <p><a href="/orders">All your orders</a></p>
  `);
}

const notificationWords: Record<Notification['type'], string> = {
  'order.created': 'Order placed',
  'order.cancelled': 'Order cancelled',
  'payment.captured': 'Receipt',
  'payment.refunded': 'Refund',
  'user.registered': 'Welcome',
};

export function notificationsPage(page: PageContext, items: readonly Notification[], nextHref: string | undefined): View {
  return layout(page, html`
    <h1>Your notifications</h1>
    <p>Every email the shop sent you, newest first.</p>
    ${items.length === 0 ? html`<p>Nothing yet. Emails can take a few seconds to be sent.</p>` : html`
      <ul class="notifications">
        ${items.map((item) => html`<li>
          <strong>${notificationWords[item.type]}</strong>: ${item.subject}
          <span class="meta">· ${when(item.createdAt)} · to ${item.recipient}</span>
          ${item.orderId === null ? '' : html` · <a href=${`/orders/${item.orderId}`}>the order</a>`}
        </li>`)}
      </ul>`}
    ${nextHref === undefined ? '' : html`<p><a class="button" href=${nextHref} rel="next">Older</a></p>`}
  `);
}
