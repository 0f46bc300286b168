import type { Trouble } from '../trouble.ts';
import type { Product } from './catalogue.ts';
import { money } from './format.ts';
import { html, type PageContext, type View } from './html.ts';
import { doneNotice, layout, troubleNotice } from './layout.ts';

/** A cart line with what inventory says of its product now; `product` undefined when it is no longer sold. */
export interface PricedLine {
  sku: string;
  quantity: number;
  product: Product | undefined;
}

/** The test cards the provider knows (#13), as a shopper picks one. */
export const testCards = [
  ['pm_card_visa', 'Visa ending 4242 (pays)'],
  ['pm_card_mastercard', 'Mastercard ending 4444 (pays)'],
  ['pm_card_chargeDeclined', 'Visa ending 0002 (declined)'],
  ['pm_card_chargeDeclinedInsufficientFunds', 'Visa ending 9995 (insufficient funds)'],
] as const;
export type TestCard = (typeof testCards)[number][0];

export function totalOf(lines: readonly PricedLine[]): { cents: number; currency: string } {
  const priced = lines.filter((line) => line.product !== undefined);
  return { cents: priced.reduce((sum, line) => sum + line.quantity * line.product!.priceCents, 0), currency: priced[0]?.product?.currency ?? 'EUR' };
}

function lineRows(lines: readonly PricedLine[], csrf: string | undefined): View {
  return html`<table class="lines">
    <caption class="visually-hidden">Items</caption>
    <thead><tr><th scope="col">Product</th><th scope="col">Price</th><th scope="col">Quantity</th><th scope="col">Total</th></tr></thead>
    <tbody>
      ${lines.map((line) => html`<tr>
        <th scope="row">${line.product === undefined ? html`${line.sku} <span class="out">(no longer sold)</span>` : html`<a href=${`/products/${line.sku}`}>${line.product.name}</a>`}</th>
        <td>${line.product === undefined ? '—' : money(line.product.priceCents, line.product.currency)}</td>
        <td>${csrf === undefined ? line.quantity : html`
          <form class="quantity" method="post" action=${`/cart/items/${line.sku}`}>
            <input type="hidden" name="_csrf" value=${csrf} />
            <label class="visually-hidden" for=${`qty-${line.sku}`}>Quantity of ${line.product?.name ?? line.sku}</label>
            <input id=${`qty-${line.sku}`} name="quantity" type="number" inputmode="numeric" min="0" max="1000" value=${line.quantity} required />
            <button type="submit">Update</button>
            <button type="submit" name="quantity" value="0" class="link">Remove<span class="visually-hidden"> ${line.product?.name ?? line.sku}</span></button>
          </form>`}
        </td>
        <td>${line.product === undefined ? '—' : money(line.quantity * line.product.priceCents, line.product.currency)}</td>
      </tr>`)}
    </tbody>
  </table>`;
}

export function cartPage(page: PageContext, lines: readonly PricedLine[], trouble: Trouble | undefined, updated: boolean): View {
  const total = totalOf(lines);
  return layout(page, html`
    <h1>Your cart</h1>
    ${doneNotice(updated ? 'Your cart was updated.' : undefined)}
    ${troubleNotice(trouble, html`<p><a class="button" href="/cart">Try again</a></p>`)}
    ${lines.length === 0 ? html`<p>Your cart is empty. <a href="/">Find something you like</a>.</p>` : html`
      ${lineRows(lines, page.csrf)}
      <p class="total">Total: <strong>${money(total.cents, total.currency)}</strong></p>
      <p><a class="button primary" href="/checkout">Check out</a></p>`}
  `);
}

export interface CheckoutForm {
  lines: readonly PricedLine[];
  /** The key of this checkout attempt: sent again by a retry, so the order is placed once however often it is posted. */
  attempt: string;
  card: TestCard;
  trouble: Trouble | undefined;
}

/** What is ordered, the card to pay with, and one button; a failure says what happened and, if it may help, to try again. */
export function checkoutPage(page: PageContext, form: CheckoutForm): View {
  const total = totalOf(form.lines);
  const retry = html`<form method="post" action="/checkout">
    <input type="hidden" name="_csrf" value=${page.csrf} />
    <input type="hidden" name="attempt" value=${form.attempt} />
    <input type="hidden" name="card" value=${form.card} />
    <button type="submit">Try again</button>
  </form>`;
  return layout(page, html`
    <h1>Check out</h1>
    ${troubleNotice(form.trouble, retry)}
    ${form.lines.length === 0 ? html`<p>Your cart is empty. <a href="/">Find something you like</a>.</p>` : html`
      ${lineRows(form.lines, undefined)}
      <p class="total">Total: <strong>${money(total.cents, total.currency)}</strong></p>
      <form method="post" action="/checkout" class="checkout">
        <input type="hidden" name="_csrf" value=${page.csrf} />
        <input type="hidden" name="attempt" value=${form.attempt} />
        <fieldset>
          <legend>Pay with a test card</legend>
          ${testCards.map(([id, label]) => html`<div class="choice">
            <input type="radio" id=${`card-${id}`} name="card" value=${id} checked=${id === form.card} />
            <label for=${`card-${id}`}>${label}</label>
          </div>`)}
        </fieldset>
        <button type="submit" class="primary">Place order and pay ${money(total.cents, total.currency)}</button>
      </form>
      <p><a href="/cart">Change the cart</a></p>`}
  `);
}
