import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import type { notificationPage } from '@baton/contracts/http';
import type { HttpClient } from '@baton/kit/http';
import { Code, KitError } from '@baton/kit/errors';
import { callService } from '../../forward.ts';
import { seeOther, sendPage } from '../send-page.ts';
import type { Shopper } from '../session.ts';
import { hrefOf, pageContext, textOf, type StorefrontDeps } from '../storefront-deps.ts';
import { troubleOf } from '../trouble.ts';
import { troublePage } from '../views/catalogue.ts';
import type { PageContext, View } from '../views/html.ts';
import { notificationsPage, orderPage, ordersPage, type Order } from '../views/orders.ts';

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const pageSize = 20;

/** A signed-in shopper's own pages: the orders, one order (and cancelling it), the notifications sent. */
export function registerOrderPages(app: FastifyInstance, { upstreams, sessions }: StorefrontDeps): void {
  /**
   * The page's shopper, or a 303 to sign in and come back: to this page, or for a form's post
   * (which a redirect cannot repeat) to the page the form was on, `back`.
   */
  async function shopperOrSignIn(request: FastifyRequest, reply: FastifyReply, back = request.url): Promise<Shopper | undefined> {
    const shopper = await sessions.shopperOf(request, reply);
    if (shopper === undefined) await seeOther(reply, hrefOf('/sign-in', { next: back }));
    return shopper;
  }

  const cannot = (request: FastifyRequest, reply: FastifyReply, shopper: Shopper, heading: string, error: unknown, retryHref: string) => {
    const trouble = troubleOf(error);
    return sendPage(reply, troublePage(pageContext(request, reply, heading, shopper), heading, trouble, trouble.retry ? retryHref : undefined), trouble);
  };

  /**
   * A signed-in shopper's paged list (their orders, their notifications): a page of it from the
   * service that keeps it, with the link to the next, or the trouble in a shopper's words.
   */
  function listPage<Item>(path: string, options: {
    client: HttpClient; servicePath: string; title: string; cannotShow: string; priority?: 'low';
    view: (page: PageContext, items: readonly Item[], nextHref: string | undefined) => View;
  }): void {
    app.get(path, { config: { callers: 'public', ...(options.priority ? { priority: options.priority } : {}) } }, async (request, reply) => {
      const shopper = await shopperOrSignIn(request, reply);
      if (shopper === undefined) return reply;
      const cursor = textOf(request.query, 'cursor');
      try {
        const { body } = await callService<{ items: Item[]; nextCursor: string | null }>(request, options.client, {
          method: 'GET', path: options.servicePath, query: { limit: pageSize, cursor: cursor?.slice(0, 512) }, withCredentials: true, accessToken: shopper.accessToken,
        });
        return sendPage(reply, options.view(pageContext(request, reply, options.title, shopper), body.items, body.nextCursor ? hrefOf(path, { cursor: body.nextCursor }) : undefined));
      } catch (error) {
        return cannot(request, reply, shopper, options.cannotShow, error, request.url);
      }
    });
  }

  listPage<Order>('/orders', { client: upstreams.orders, servicePath: '/v1/orders', title: 'Your orders', cannotShow: 'Your orders cannot be shown just now', view: ordersPage });

  app.get<{ Params: { id: string } }>('/orders/:id', { config: { callers: 'public' } }, async (request, reply) => {
    const shopper = await shopperOrSignIn(request, reply);
    if (shopper === undefined) return reply;
    const { id } = request.params;
    try {
      if (!uuid.test(id)) throw new KitError(Code.NotFound, 'no such order');
      const { body } = await callService<Order>(request, upstreams.orders, { method: 'GET', path: `/v1/orders/${id}`, withCredentials: true, accessToken: shopper.accessToken });
      // Said only when the order's status bears it out: a link with ?cancelled=1 says nothing of a paid order.
      const notice = textOf(request.query, 'placed') !== undefined && body.status !== 'cancelled' ? 'Thank you: your order is placed.'
        : textOf(request.query, 'cancelled') !== undefined && body.status === 'cancelled' ? 'Your order is cancelled.' : undefined;
      return sendPage(reply, orderPage(pageContext(request, reply, 'Your order', shopper), body, notice, undefined));
    } catch (error) {
      return cannot(request, reply, shopper, 'This order cannot be shown', error, `/orders/${encodeURIComponent(id)}`);
    }
  });

  app.post<{ Params: { id: string } }>('/orders/:id/cancel', { config: { callers: 'public', priority: 'high' }, preHandler: app.csrfProtection }, async (request, reply) => {
    const shopper = await shopperOrSignIn(request, reply, uuid.test(request.params.id) ? `/orders/${request.params.id}` : '/orders');
    if (shopper === undefined) return reply;
    const { id } = request.params;
    try {
      if (!uuid.test(id)) throw new KitError(Code.NotFound, 'no such order');
      // Cancelling is idempotent in orders: the same key as the public API's cancel.
      await callService(request, upstreams.orders, { method: 'POST', path: `/v1/orders/${id}/cancel`, withCredentials: true, accessToken: shopper.accessToken, idempotencyKey: `cancel-${id}` });
      return seeOther(reply, `/orders/${id}?cancelled=1`);
    } catch (error) {
      return cannot(request, reply, shopper, 'The order could not be cancelled', error, `/orders/${encodeURIComponent(id)}`);
    }
  });

  listPage<z.output<typeof notificationPage>['items'][number]>('/notifications', {
    client: upstreams.notifications, servicePath: '/v1/notifications', title: 'Your notifications', cannotShow: 'Your notifications cannot be shown just now',
    priority: 'low', view: notificationsPage,
  });
}
