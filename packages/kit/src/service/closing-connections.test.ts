import { test } from 'node:test';
import assert from 'node:assert/strict';
import Fastify from 'fastify';
import { failureKindOf } from '../upstream/failures.ts';
import { errorFromResponse } from '../http/response-error.ts';
import { installConnectionClosing } from './closing-connections.ts';
import { installErrorHandling } from './error-handler.ts';
import { installRequestLifecycle } from './request-lifecycle.ts';

// What a closing server does with a request that still arrives: refuses it before any handler
// runs, in words a kit client reads as "never started, try again" (the failure table's
// `shutting_down`), and closes the connection after the answer.

test('once closing, a request is refused with 503 shutting_down, Retry-After and Connection: close, and its handler never runs', async (t) => {
  let closing = false;
  let handled = 0;
  const app = Fastify();
  installErrorHandling(app);
  installConnectionClosing(app, () => closing);
  installRequestLifecycle(app, { isClosing: () => closing });
  app.post('/orders', async () => {
    handled++;
    return { ok: true };
  });
  t.after(() => app.close());

  assert.equal((await app.inject({ method: 'POST', url: '/orders', payload: {} })).statusCode, 200);
  closing = true;
  const refused = await app.inject({ method: 'POST', url: '/orders', payload: {} });
  assert.equal(refused.statusCode, 503);
  assert.equal(refused.headers['retry-after'], '1');
  assert.equal(refused.headers.connection, 'close');
  assert.match(String(refused.headers['content-type']), /^application\/problem\+json/);
  const problem = refused.json<{ code: string; reason: string }>();
  assert.equal(problem.reason, 'shutting_down');
  assert.equal(handled, 1, 'the refused request never reached its handler');

  // What a kit client makes of that answer: the table's shutting_down row, tried again even for a POST.
  const error = errorFromResponse({ upstream: 'orders', instance: 'http://a', status: 503, headers: refused.headers as Record<string, string>, problem });
  assert.equal(failureKindOf(error), 'shutting_down');
});
