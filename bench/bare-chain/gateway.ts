// The bare chain's gateway: the two routes the bench calls, each checking the caller's token
// (as Baton's gateway does before it forwards) and passing the request on to orders with undici
// on a keep-alive pool, the token with it. No rate limits, deadline, retries, request ids,
// metrics or tracing.
import { Pool } from 'undici';
import { serve } from './listen.ts';
import { verifiedUserId } from './token.ts';

const orders = new Pool(process.env.ORDERS_URL ?? '', { connections: 32 });

await serve((app) => {
  const forward = async (path: string, authorization: string | undefined, idempotencyKey: string | undefined, body: unknown) => {
    const res = await orders.request({
      method: 'POST', path, body: JSON.stringify(body ?? {}),
      headers: { 'content-type': 'application/json', authorization: authorization ?? '', ...(idempotencyKey === undefined ? {} : { 'idempotency-key': idempotencyKey }) },
    });
    return { status: res.statusCode, body: await res.body.json() };
  };

  app.post('/api/v1/orders', async (request, reply) => {
    await verifiedUserId(request.headers.authorization);
    const key = request.headers['idempotency-key'];
    const answer = await forward('/orders', request.headers.authorization, typeof key === 'string' ? key : undefined, request.body);
    return reply.code(answer.status).send(answer.body);
  });

  app.post<{ Params: { id: string } }>('/api/v1/orders/:id/cancel', async (request, reply) => {
    await verifiedUserId(request.headers.authorization);
    const answer = await forward(`/orders/${request.params.id}/cancel`, request.headers.authorization, `cancel-${request.params.id}`, {});
    return reply.code(answer.status).send(answer.body);
  });
});
