import { test } from 'node:test';
import assert from 'node:assert/strict';
import Fastify from 'fastify';
import { installErrorHandling } from './error-handler.ts';
import { installNulGuard } from './nul-guard.ts';

test('a NUL anywhere in a body, a query or a path is a 400 naming every field that holds one; the route never runs', async (t) => {
  const app = Fastify();
  installErrorHandling(app);
  installNulGuard(app);
  let ran = 0;
  app.post('/things/:id', async () => {
    ran += 1;
    return { ok: true };
  });
  t.after(() => app.close());

  const bad = await app.inject({
    method: 'POST', url: '/things/a%00b?note=x%00y&fine=yes',
    payload: { items: [{ name: 'ok' }, { name: 'o\u0000k' }], ['k\u0000ey']: 1, nested: { deep: ['\u0000'] } },
  });
  assert.equal(bad.statusCode, 400);
  assert.match(String(bad.headers['content-type']), /^application\/problem\+json/);
  const fields = (bad.json() as { errors: Array<{ field: string }> }).errors.map((f) => f.field).toSorted();
  assert.deepEqual(fields, ['body.items.1.name', 'body.k\\u0000ey', 'body.nested.deep.0', 'params.id', 'query.note']);
  assert.equal(ran, 0);

  const good = await app.inject({ method: 'POST', url: '/things/ab?note=xy', payload: { items: [{ name: 'ok' }], text: 'tab\tand newline\n are fine' } });
  assert.equal(good.statusCode, 200);
  assert.equal(ran, 1);
});
