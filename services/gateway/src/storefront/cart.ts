import type { FastifyReply, FastifyRequest } from 'fastify';

/**
 * The cart lives in the shopper's browser, as a cookie: `SKU:quantity` lines joined by `.`.
 * Why there and not in a service: a cart is the shopper's wish, not the shop's state. Kept in the
 * browser it needs no account (anyone can fill one), no database and no service to be up, works
 * without JavaScript (the pages are forms), and survives any restart. Nothing in it is trusted:
 * prices and stock are read from inventory when it is shown, and the order is checked by orders
 * at checkout, so a cart edited by hand can only ask for what anyone could ask for.
 * What it costs: it is not shared between a shopper's devices (docs/web.md).
 */
export interface CartLine {
  sku: string;
  quantity: number;
}

export const cartCookie = 'baton_cart';
/** As an order takes: at most 50 lines, 1 to 1,000 of each. */
export const maxCartLines = 50;
export const maxLineQuantity = 1_000;
const skuPattern = /^[A-Z0-9][A-Z0-9-]{1,31}$/;
const cartMaxAgeSeconds = 30 * 86_400;

/** The cart a request carries; a line that does not read as one is dropped, never an error. */
export function cartOf(request: FastifyRequest): CartLine[] {
  const text = request.cookies[cartCookie] ?? '';
  const lines = new Map<string, number>();
  for (const part of text.split('.').slice(0, maxCartLines)) {
    const [sku = '', count = ''] = part.split(':');
    const quantity = Number(count);
    if (skuPattern.test(sku) && Number.isInteger(quantity) && quantity >= 1 && quantity <= maxLineQuantity) lines.set(sku, quantity);
  }
  return [...lines].map(([sku, quantity]) => ({ sku, quantity }));
}

/** The cart with `sku` set to `quantity` (0 takes it out); a new line past the 50th is not added. */
export function withLine(cart: readonly CartLine[], sku: string, quantity: number): CartLine[] {
  const bounded = Math.min(maxLineQuantity, Math.max(0, Math.trunc(quantity)));
  const others = cart.filter((line) => line.sku !== sku);
  if (bounded === 0) return others;
  const at = cart.findIndex((line) => line.sku === sku);
  if (at === -1) return others.length >= maxCartLines ? others : [...others, { sku, quantity: bounded }];
  return cart.map((line) => (line.sku === sku ? { sku, quantity: bounded } : line));
}

export function saveCart(request: FastifyRequest, reply: FastifyReply, cart: readonly CartLine[]): void {
  if (cart.length === 0) {
    void reply.clearCookie(cartCookie, { path: '/' });
    return;
  }
  void reply.setCookie(cartCookie, cart.map((line) => `${line.sku}:${line.quantity}`).join('.'), {
    path: '/', httpOnly: true, sameSite: 'lax', secure: request.protocol === 'https', maxAge: cartMaxAgeSeconds,
  });
}

export function cartCount(cart: readonly CartLine[]): number {
  return cart.reduce((sum, line) => sum + line.quantity, 0);
}
