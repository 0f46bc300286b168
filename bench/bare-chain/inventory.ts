// The bare chain's inventory: reserve, confirm and release, each one transaction with the
// statements of services/inventory/src/reservations/{reserve,confirm,release,return-stock}.ts,
// in the same order, so PostgreSQL does the same work (row locks on the product included).
// No token check (Baton's inventory checks orders' service token; there is no service identity
// here), no schema validation beyond what the code reads, no shortage report (stock never runs
// out in the bench: every order is cancelled).
import type pg from 'pg';
import { serve } from './listen.ts';
import { openPool, transaction } from './pool.ts';

const pool = openPool();
const ttlSeconds = 900; // inventory's RESERVATION_TTL_SECONDS default

type Line = { sku: string; quantity: number };

/** Reads a reservation as findReservation (services/inventory/src/reservations/reservation.ts) does. */
async function findReservation(client: pg.PoolClient, orderId: string) {
  const { rows } = await client.query<{ order_id: string; status: string; sku: string; quantity: number; price_cents: number; currency: string }>(
    `select r.order_id,
            case when r.status = 'held' and r.expires_at <= now() then 'expired' else r.status end as status,
            r.expires_at, i.sku, i.quantity, i.price_cents, i.currency
       from reservations r left join reservation_items i on i.order_id = r.order_id
      where r.order_id = $1`, [orderId]);
  const first = rows[0];
  if (first === undefined) return undefined;
  return { orderId, status: first.status, items: rows.filter((row) => row.sku !== null).map(({ sku, quantity, price_cents, currency }) => ({ sku, quantity, priceCents: price_cents, currency })) };
}

await serve((app) => {
  app.post<{ Body: { orderId: string; items: Line[] } }>('/reservations', async (request, reply) => {
    const { orderId } = request.body;
    const lines = [...request.body.items].sort((a, b) => a.sku.localeCompare(b.sku));
    const outcome = await transaction(pool, async (client) => {
      const claimed = await client.query(
        `insert into reservations (order_id, status, expires_at)
         values ($1, 'held', now() + make_interval(secs => $2))
         on conflict (order_id) do nothing
         returning expires_at`, [orderId, ttlSeconds]);
      if (claimed.rows[0] === undefined) return findReservation(client, orderId);
      const items = [];
      for (const line of lines) {
        const { rows } = await client.query<{ price_cents: number; currency: string }>(
          `update products set stock = stock - $2, updated_at = now()
            where sku = $1 and stock >= $2
            returning price_cents, currency`, [line.sku, line.quantity]);
        const product = rows[0];
        if (product === undefined) throw new Error(`out of stock: ${line.sku}`);
        items.push({ ...line, priceCents: product.price_cents, currency: product.currency });
      }
      for (const line of items) {
        await client.query('insert into reservation_items (order_id, sku, quantity, price_cents, currency) values ($1, $2, $3, $4, $5)',
          [orderId, line.sku, line.quantity, line.priceCents, line.currency]);
      }
      return { orderId, status: 'held', items };
    }).catch(() => undefined);
    if (outcome === undefined) return reply.code(409).send({ error: 'not reserved' });
    return outcome;
  });

  app.post<{ Params: { orderId: string } }>('/reservations/:orderId/confirm', async (request) => transaction(pool, async (client) => {
    await client.query(
      `update reservations set status = 'confirmed', updated_at = now()
        where order_id = $1 and status = 'held' and expires_at > now()`, [request.params.orderId]);
    return findReservation(client, request.params.orderId);
  }));

  app.post<{ Params: { orderId: string } }>('/reservations/:orderId/release', async (request) => transaction(pool, async (client) => {
    const { orderId } = request.params;
    const { rows } = await client.query(
      `update reservations set status = 'released', updated_at = now()
        where order_id = $1 and status in ('held', 'confirmed')
        returning order_id`, [orderId]);
    if (rows.length > 0) {
      const stock = await client.query<Line>(
        `select sku, sum(quantity)::int as quantity from reservation_items
          where order_id = any($1::uuid[]) group by sku`, [[orderId]]);
      for (const { sku, quantity } of stock.rows.sort((a, b) => a.sku.localeCompare(b.sku))) {
        await client.query('update products set stock = stock + $2, updated_at = now() where sku = $1', [sku, quantity]);
      }
    }
    return findReservation(client, orderId);
  }));
});
