import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { productQuery, type categoryList, type productPage } from '@baton/contracts/http';
import { Code, KitError } from '@baton/kit/errors';
import { callService } from '../../forward.ts';
import { cartOf } from '../cart.ts';
import { sendPage } from '../send-page.ts';
import { hrefOf, pageContext, textOf, type StorefrontDeps } from '../storefront-deps.ts';
import { troubleOf, type Trouble } from '../trouble.ts';
import { listPage, productView, troublePage, type Product } from '../views/catalogue.ts';

const pageSize = 24;
// The category filter's list changes when staff add a category, seldom: read once a while, not
// on every page (it was a second call to inventory for each product list: bench/README.md, storefront).
const categoriesKeptMs = 10_000;
const skuPattern = /^[A-Z0-9][A-Z0-9-]{1,31}$/;

/** The catalogue's pages: the product list (search, category, sort, pages) at `/`, and a product's own page. */
export function registerCataloguePages(app: FastifyInstance, { upstreams, sessions }: StorefrontDeps): void {
  let categoriesRead: { atMs: number; items: z.output<typeof categoryList>['items'] } | undefined;
  /**
   * The categories as read at most `categoriesKeptMs` ago, or read now, with this page's deadline
   * and signal (a read in flight is not shared: a shopper who leaves cancels only their own).
   */
  const categoriesFor = async (request: FastifyRequest) => {
    if (categoriesRead !== undefined && performance.now() - categoriesRead.atMs <= categoriesKeptMs) return categoriesRead.items;
    const { body } = await callService<z.output<typeof categoryList>>(request, upstreams.inventory, { method: 'GET', path: '/v1/categories' });
    categoriesRead = { atMs: performance.now(), items: body.items };
    return body.items;
  };

  app.get('/', { config: { callers: 'public', priority: 'low' } }, async (request, reply) => {
    const shopper = await sessions.shopperOf(request, reply);
    const raw = { q: textOf(request.query, 'q'), category: textOf(request.query, 'category'), sort: textOf(request.query, 'sort'), cursor: textOf(request.query, 'cursor') };
    const back = hrefOf('/', raw);
    const page = pageContext(request, reply, raw.q === undefined ? 'Products' : `Results for ${raw.q.slice(0, 60)}`, shopper);
    // Said only of a product in the cart: the link's words are not the shop's to say otherwise.
    const added = cartOf(request).find((line) => line.sku === textOf(request.query, 'added'))?.sku;
    // The public API's own query schema: the page refuses what the API would, in the same words.
    const parsed = productQuery.safeParse({ ...raw, limit: pageSize });
    if (!parsed.success) {
      const trouble = troubleOf(new KitError(Code.InvalidArgument, 'the search is not valid', {
        fields: parsed.error.issues.map((issue) => ({ field: issue.path.join('.'), message: issue.message })),
      }));
      const words = Object.entries(trouble.fields).map(([name, message]) => `${name}: ${message}`).join('; ');
      return sendPage(reply, listPage(page, { query: raw, products: undefined, categories: [], nextHref: undefined, added: undefined, trouble: { ...trouble, message: `This search cannot be made (${words}).` } }, '/'), 400);
    }
    const [products, categories] = await Promise.allSettled([
      callService<z.output<typeof productPage>>(request, upstreams.inventory, { method: 'GET', path: '/v1/products', query: parsed.data }),
      categoriesFor(request),
    ]);
    const trouble: Trouble | undefined = products.status === 'rejected' ? troubleOf(products.reason) : undefined;
    const found = products.status === 'fulfilled' ? products.value.body : undefined;
    return sendPage(reply, listPage(page, {
      query: raw,
      products: found,
      // The list is worth showing without its categories, if only they could not be read.
      categories: categories.status === 'fulfilled' ? categories.value : [],
      nextHref: found?.nextCursor ? hrefOf('/', { ...raw, cursor: found.nextCursor }) : undefined,
      added,
      trouble,
    }, back), trouble);
  });

  app.get<{ Params: { sku: string } }>('/products/:sku', { config: { callers: 'public', priority: 'low' } }, async (request, reply) => {
    const shopper = await sessions.shopperOf(request, reply);
    const { sku } = request.params;
    const here = `/products/${encodeURIComponent(sku)}`;
    try {
      if (!skuPattern.test(sku)) throw new KitError(Code.NotFound, 'no such product');
      const { body } = await callService<Product>(request, upstreams.inventory, { method: 'GET', path: `/v1/products/${encodeURIComponent(sku)}` });
      const added = cartOf(request).some((line) => line.sku === body.sku) && textOf(request.query, 'added') === body.sku ? body.sku : undefined;
      return sendPage(reply, productView(pageContext(request, reply, body.name, shopper), body, added));
    } catch (error) {
      const trouble = troubleOf(error);
      const heading = trouble.code === 'not_found' ? 'No such product' : 'This product cannot be shown just now';
      return sendPage(reply, troublePage(pageContext(request, reply, heading, shopper), heading, trouble, trouble.retry ? here : undefined), trouble);
    }
  });
}
