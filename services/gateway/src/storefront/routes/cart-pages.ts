import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { order } from '@baton/contracts/http';
import { Code, KitError } from '@baton/kit/errors';
import { callService } from '../../forward.ts';
import { cartOf, saveCart, withLine, type CartLine } from '../cart.ts';
import { seeOther, sendPage } from '../send-page.ts';
import { hrefOf, pageContext, safeNext, textOf, type StorefrontDeps } from '../storefront-deps.ts';
import { troubleOf, type Trouble } from '../trouble.ts';
import { cartPage, checkoutPage, testCards, type PricedLine, type TestCard } from '../views/cart.ts';
import type { Product } from '../views/catalogue.ts';
import { troublePage } from '../views/catalogue.ts';

const sku = z.string().regex(/^[A-Z0-9][A-Z0-9-]{1,31}$/, 'expected a SKU such as COFFEE-1KG');
// Digits only: `0x10`, `1e3` and `1.5` are not quantities a person types.
const quantity = (min: number) => z.string().regex(/^\d{1,7}$/, 'expected a whole number').transform(Number)
  .pipe(z.number().min(min, `expected at least ${min}`).max(1000, 'expected at most 1000'));
// How many of a cart's products are read at once: a cart of 50 lines must not take the gateway's
// whole share of calls to inventory (its bulkhead, 64 in flight) from every other shopper.
const pricedAtOnce = 4;
const addForm = z.object({ sku, quantity: quantity(1), back: z.string().optional() });
const setForm = z.object({ quantity: quantity(0) });
const cardIds = testCards.map(([id]) => id) as [TestCard, ...TestCard[]];
const checkoutForm = z.object({
  // The Idempotency-Key the order is placed with: the API's own rule for it.
  attempt: z.string().min(8).max(128).regex(/^[A-Za-z0-9._:-]+$/),
  card: z.enum(cardIds, { error: 'choose one of the test cards' }),
});

/** The cart (in the shopper's cookie), and checkout: the order placed with the cart and a test card, once however often it is sent. */
export function registerCartPages(app: FastifyInstance, { upstreams, sessions }: StorefrontDeps): void {
  /** Each cart line with its product as inventory has it now (undefined: no longer sold). One call per line, all at once. */
  async function priced(request: FastifyRequest, cart: readonly CartLine[]): Promise<{ lines: PricedLine[]; trouble: Trouble | undefined }> {
    let trouble: Trouble | undefined;
    const priceOf = async (line: CartLine): Promise<PricedLine> => {
      try {
        const { body } = await callService<Product>(request, upstreams.inventory, { method: 'GET', path: `/v1/products/${line.sku}` });
        return { ...line, product: body };
      } catch (error) {
        const seen = troubleOf(error);
        if (seen.code !== 'not_found') trouble ??= seen;
        return { ...line, product: undefined };
      }
    };
    const lines: PricedLine[] = [];
    for (let at = 0; at < cart.length; at += pricedAtOnce) lines.push(...await Promise.all(cart.slice(at, at + pricedAtOnce).map(priceOf)));
    return { lines, trouble };
  }

  const badForm = (request: FastifyRequest, reply: FastifyReply, error: z.ZodError) => {
    const trouble = troubleOf(new KitError(Code.InvalidArgument, 'the form is not valid', {
      fields: error.issues.map((issue) => ({ field: issue.path.join('.'), message: issue.message })),
    }));
    const words = Object.entries(trouble.fields).map(([name, message]) => `${name}: ${message}`).join('; ');
    return sendPage(reply, troublePage(pageContext(request, reply, 'That could not be done', undefined), 'That could not be done', { ...trouble, message: `The form was not right (${words}).` }), 400);
  };

  app.get('/cart', { config: { callers: 'public' } }, async (request, reply) => {
    const shopper = await sessions.shopperOf(request, reply);
    const { lines, trouble } = await priced(request, cartOf(request));
    return sendPage(reply, cartPage(pageContext(request, reply, 'Your cart', shopper), lines, trouble, textOf(request.query, 'updated') !== undefined), trouble);
  });

  app.post('/cart/items', { config: { callers: 'public' }, preHandler: app.csrfProtection }, async (request, reply) => {
    const form = addForm.safeParse(request.body);
    if (!form.success) return badForm(request, reply, form.error);
    const cart = cartOf(request);
    const had = cart.find((line) => line.sku === form.data.sku)?.quantity ?? 0;
    saveCart(request, reply, withLine(cart, form.data.sku, had + form.data.quantity));
    const back = safeNext(form.data.back);
    const [path = '/', search = ''] = back.split('?');
    const query = Object.fromEntries(new URLSearchParams(search));
    return seeOther(reply, hrefOf(path, { ...query, added: form.data.sku }));
  });

  app.post<{ Params: { sku: string } }>('/cart/items/:sku', { config: { callers: 'public' }, preHandler: app.csrfProtection }, async (request, reply) => {
    const form = setForm.safeParse(request.body);
    const line = sku.safeParse(request.params.sku);
    if (!form.success) return badForm(request, reply, form.error);
    if (!line.success) return badForm(request, reply, line.error);
    saveCart(request, reply, withLine(cartOf(request), line.data, form.data.quantity));
    return seeOther(reply, '/cart?updated=1');
  });

  app.get('/checkout', { config: { callers: 'public' } }, async (request, reply) => {
    const shopper = await sessions.shopperOf(request, reply);
    if (shopper === undefined) return seeOther(reply, '/sign-in?next=%2Fcheckout');
    const { lines, trouble } = await priced(request, cartOf(request));
    return sendPage(reply, checkoutPage(pageContext(request, reply, 'Check out', shopper), { lines, attempt: randomUUID(), card: 'pm_card_visa', trouble }), trouble);
  });

  app.post('/checkout', { config: { callers: 'public', priority: 'high' }, preHandler: app.csrfProtection }, async (request, reply) => {
    const shopper = await sessions.shopperOf(request, reply);
    if (shopper === undefined) return seeOther(reply, '/sign-in?next=%2Fcheckout');
    const form = checkoutForm.safeParse(request.body);
    if (!form.success) return badForm(request, reply, form.error);
    const cart = cartOf(request);
    if (cart.length === 0) return seeOther(reply, '/cart');
    try {
      const { body } = await callService<z.output<typeof order>>(request, upstreams.orders, {
        method: 'POST', path: '/v1/orders', withCredentials: true, accessToken: shopper.accessToken,
        body: { items: cart, payment: { method: form.data.card } }, idempotencyKey: form.data.attempt,
      });
      saveCart(request, reply, []);
      return seeOther(reply, `/orders/${body.id}?placed=1`);
    } catch (error) {
      const trouble = troubleOf(error);
      const { lines } = await priced(request, cart);
      // Sent again, the same key gets the first answer or finishes the first attempt: never a
      // second order. After a definite no (declined, out of stock), a new try is a new order.
      const attempt = trouble.retry ? form.data.attempt : randomUUID();
      return sendPage(reply, checkoutPage(pageContext(request, reply, 'Check out', shopper), { lines, attempt, card: form.data.card, trouble }), trouble);
    }
  });
}
