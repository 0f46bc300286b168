import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { createOrderBody, idempotencyHeaders, orderParams, pageQuery } from '@baton/contracts/http';
import { z } from 'zod';
import { problemContentType } from '@baton/kit/errors';
import { idempotentReplayedHeader } from '@baton/kit/http';
import { createPageCursor, signalOf } from '@baton/kit/service';
import { cancelOrder, findOwnOrder } from '../checkout/cancel-order.ts';
import { placeOrder, type CheckoutDeps } from '../checkout/place-order.ts';
import { orderView } from '../orders/order.ts';
import { listOrders } from '../orders/repository.ts';

// Where a page of orders ended: newest first, so the last order's time, and its id for ties.
const ordersCursor = createPageCursor(z.object({ createdAt: z.iso.datetime(), id: z.uuid() }));

/** The caller's W3C trace context, when it sent one: the order's events continue that trace. */
function traceparentOf(request: FastifyRequest): string | undefined {
  const header = request.headers.traceparent;
  return typeof header === 'string' ? header : undefined;
}

export interface OrderRoutesDeps extends CheckoutDeps {
  /** Verifies the caller's bearer token and returns its user id; throws 401 otherwise. */
  authenticate(request: FastifyRequest): Promise<string>;
  checkoutDeadlineMs: number;
}

/**
 * The orders API. Every route checks who is asking here, in the orders service, and not only
 * at the gateway: an order is only ever shown to or changed by its owner.
 */
export function registerOrderRoutes(app: FastifyInstance, deps: OrderRoutesDeps): void {
  const api = app.withTypeProvider<ZodTypeProvider>();

  api.post('/v1/orders', {
    schema: { body: createOrderBody, headers: idempotencyHeaders },
    config: { priority: 'high', deadlineMs: deps.checkoutDeadlineMs, callers: ['gateway'] },
  }, async function createOrder(request, reply) {
    const userId = await deps.authenticate(request);
    const response = await placeOrder(deps, {
      userId,
      idempotencyKey: request.headers['idempotency-key'],
      items: request.body.items,
      payment: request.body.payment,
      traceparent: traceparentOf(request),
    }, { signal: signalOf(request), requestId: request.id });
    if (response.status >= 400) reply.type(problemContentType);
    // The same answer as the first request's, and said to be a copy (draft-ietf-httpapi-idempotency-key-header).
    if (response.replayed === true) reply.header(idempotentReplayedHeader, 'true');
    return reply.code(response.status).send(response.body);
  });

  api.get('/v1/orders', { config: { callers: ['gateway'] }, schema: { querystring: pageQuery } }, async function listMyOrders(request) {
    const userId = await deps.authenticate(request);
    const { limit, cursor } = request.query;
    const orders = await listOrders(deps.db, userId, { limit, after: ordersCursor.decode(cursor) }, { signal: signalOf(request) });
    const last = orders.at(-1);
    return {
      items: orders.map(orderView),
      nextCursor: orders.length === limit && last ? ordersCursor.encode({ createdAt: last.createdAt, id: last.id }) : null,
    };
  });

  api.get('/v1/orders/:id', { config: { callers: ['gateway'] }, schema: { params: orderParams } }, async function getMyOrder(request) {
    const userId = await deps.authenticate(request);
    return orderView(await findOwnOrder(deps.db, userId, request.params.id, { signal: signalOf(request) }));
  });

  api.post('/v1/orders/:id/cancel', { schema: { params: orderParams }, config: { priority: 'high', callers: ['gateway'] } }, async function cancelMyOrder(request) {
    const userId = await deps.authenticate(request);
    return orderView(await cancelOrder(deps, userId, request.params.id, { signal: signalOf(request), requestId: request.id, traceparent: traceparentOf(request) }));
  });
}
