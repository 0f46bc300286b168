// The bare chain's users: the one read checkout makes of it (Baton's orders asks users for the
// customer's name and email, to put in the order.created event), the same statement as
// services/users/src/users/repository.ts findUserById. No token check here: in Baton users
// checks orders' service token, which the bare chain has not (no service identity).
import { serve } from './listen.ts';
import { openPool } from './pool.ts';

const pool = openPool();

await serve((app) => {
  app.get<{ Params: { id: string } }>('/users/:id', async (request, reply) => {
    const { rows } = await pool.query<{ id: string; email: string; name: string }>(
      'select id, email, name, password_hash, tokens_revoked_before from users where id = $1', [request.params.id]);
    const user = rows[0];
    if (user === undefined) return reply.code(404).send({ error: 'no such user' });
    return { id: user.id, email: user.email, name: user.name };
  });
});
