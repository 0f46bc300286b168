// The bare chain's orders: checkout and cancel as services/orders/src/checkout/place-order.ts and
// cancel-order.ts do them, statement for statement (the idempotency key claimed, the user read
// from users, the stock reserved in inventory, the order, its lines, its outbox event and its
// stored answer in one transaction, the reservation confirmed; for a cancel the order read, the
// stock released, the status and its event in one transaction). The caller's token is checked
// here again, as Baton's orders does. Calls to users and inventory are plain undici requests on
// keep-alive pools (HTTP/1.1 and JSON; Baton's orders uses gRPC by default): no deadline, retry,
// breaker or balancing. Errors become a 500; the bench counts anything but 201/200 as a failure.
// `GET /events` serves the outbox to the bare notifications (notifications.ts).
import { createHash, randomUUID } from 'node:crypto';
import { Pool } from 'undici';
import { serve } from './listen.ts';
import { addEvent } from './outbox.ts';
import { openPool, transaction } from './pool.ts';
import { verifiedUserId } from './token.ts';

const pool = openPool();
const users = new Pool(process.env.USERS_URL ?? '', { connections: 16 });
const inventory = new Pool(process.env.INVENTORY_URL ?? '', { connections: 16 });

type Line = { sku: string; quantity: number; priceCents: number; currency: string };
type OrderRow = { id: string; user_id: string; status: string; total_cents: string; currency: string; created_at: Date; items: unknown };

async function call<T>(upstream: Pool, method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
  const res = await upstream.request({
    method, path,
    ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
  });
  if (res.statusCode !== 200) {
    await res.body.dump();
    throw new Error(`${path} answered ${res.statusCode}`);
  }
  return (await res.body.json()) as T;
}

await serve((app) => {
  app.post<{ Body: { items: Array<{ sku: string; quantity: number }> } }>('/orders', async (request, reply) => {
    const userId = await verifiedUserId(request.headers.authorization);
    const key = String(request.headers['idempotency-key']);
    const items = [...request.body.items].sort((a, b) => a.sku.localeCompare(b.sku));
    const hash = createHash('sha256').update(JSON.stringify({ items })).digest('hex');
    const claimed = await pool.query<{ order_id: string }>(
      `insert into idempotency_keys (user_id, key, request_hash, order_id, state)
       values ($1, $2, $3, $4, 'started') on conflict do nothing returning order_id`, [userId, key, hash, randomUUID()]);
    const orderId = claimed.rows[0]?.order_id;
    if (orderId === undefined) return reply.code(409).send({ error: 'key in use' }); // no replay: the bench never repeats a key
    const customer = await call<{ email: string; name: string }>(users, 'GET', `/users/${userId}`);
    const reservation = await call<{ items: Line[] }>(inventory, 'POST', '/reservations', { orderId, items });
    const order = {
      id: orderId, userId, status: 'confirmed', items: reservation.items.map(({ sku, quantity, priceCents }) => ({ sku, quantity, priceCents })),
      totalCents: reservation.items.reduce((sum, line) => sum + line.quantity * line.priceCents, 0),
      currency: reservation.items[0]?.currency ?? 'EUR', createdAt: new Date().toISOString(),
    };
    await transaction(pool, async (client) => {
      await client.query('insert into orders (id, user_id, status, total_cents, currency, created_at) values ($1, $2, $3, $4, $5, $6)',
        [order.id, order.userId, order.status, order.totalCents, order.currency, order.createdAt]);
      for (const line of order.items) {
        await client.query('insert into order_items (order_id, sku, quantity, price_cents) values ($1, $2, $3, $4)', [order.id, line.sku, line.quantity, line.priceCents]);
      }
      await addEvent(client, 'baton.orders.order.created', order.id, { orderId, userId, customer: { email: customer.email, name: customer.name }, items: order.items, totalCents: order.totalCents, currency: order.currency, createdAt: order.createdAt });
      await client.query(
        `update idempotency_keys set state = 'completed', response_status = $3, response_body = $4::jsonb, updated_at = now()
         where user_id = $1 and key = $2`, [userId, key, 201, JSON.stringify(order)]);
    });
    await call(inventory, 'POST', `/reservations/${orderId}/confirm`);
    await pool.query('update orders set reservation_confirmed = true where id = $1', [orderId]);
    return reply.code(201).send(order);
  });

  app.post<{ Params: { id: string } }>('/orders/:id/cancel', async (request, reply) => {
    const userId = await verifiedUserId(request.headers.authorization);
    const { id } = request.params;
    const { rows } = await pool.query<OrderRow>(
      `select o.id, o.user_id, o.status, o.total_cents, o.currency, o.created_at,
              coalesce((select json_agg(json_build_object('sku', i.sku, 'quantity', i.quantity, 'price_cents', i.price_cents) order by i.sku)
                        from order_items i where i.order_id = o.id), '[]'::json) as items
       from orders o where o.id = $1`, [id]);
    const order = rows[0];
    if (order === undefined || order.user_id !== userId) return reply.code(404).send({ error: 'no such order' });
    if (order.status === 'cancelled') return order;
    await call(inventory, 'POST', `/reservations/${id}/release`);
    await transaction(pool, async (client) => {
      const changed = await client.query('update orders set status = $3 where id = $1 and status = any($2::text[])', [id, ['pending', 'confirmed'], 'cancelled']);
      if ((changed.rowCount ?? 0) > 0) {
        await addEvent(client, 'baton.orders.order.cancelled', id, { orderId: id, userId, reason: 'customer_request', cancelledAt: new Date().toISOString() });
      }
    });
    return { ...order, status: 'cancelled' };
  });

  // The outbox as a feed, for the bare notifications: a page of events after a position. No
  // token (Baton's feed checks the reader's service token), no long poll, no type filter.
  app.get<{ Querystring: { after?: string } }>('/events', async (request) => {
    const { rows } = await pool.query<{ position: string; event: unknown }>(
      'select position, event from baton_outbox where position > $1 order by position limit 100', [Number(request.query.after ?? 0)]);
    return rows;
  });
});
