import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Code, KitError } from '../errors/index.ts';
import { notStartedDetail } from '../upstream/failures.ts';
import { createHttpClient } from './http-client.ts';
import { delayUnlessClosed, eventually, sendJson, sendKitError, startUpstream } from '../testing/index.ts';

// A closing instance closes the keep-alive connections it holds once its listener is shut; a
// POST sent on one at that moment is cut and lost (a 503 in the rolling-restart test). So once
// an instance says it is leaving, the client stops using what it has pooled there: its idle
// connections close from the client's side, and the next attempts open new ones.

void test('an instance that says shutting_down has its idle pooled connections closed by the client, and the call goes on over a new one', async (t) => {
  let closing = false;
  const upstream = await startUpstream(async (req, res) => {
    if (closing) {
      closing = false;
      res.setHeader('connection', 'close');
      return sendKitError(res, new KitError(Code.Unavailable, 'this instance is shutting down', { reason: 'shutting_down', details: { [notStartedDetail]: true } }));
    }
    if (req.url === '/slow') await delayUnlessClosed(res, 50);
    sendJson(res, 200, { ok: true });
  });
  // The server keeps idle connections far longer than this test waits: only the client closes them.
  upstream.server.keepAliveTimeout = 60_000;
  t.after(() => upstream.close());
  const client = createHttpClient({ name: 'catalog', urls: [upstream.url], connectionsPerInstance: 4, keepAliveTimeoutMs: 60_000 });
  t.after(() => client.close());

  // Four calls at once open four connections, kept alive after.
  await Promise.all(Array.from({ length: 4 }, () => client.request({ method: 'GET', path: '/slow', signal: AbortSignal.timeout(5_000) })));
  assert.equal(upstream.openSockets, 4, 'four kept-alive connections');

  closing = true;
  const answer = await client.request({ method: 'POST', path: '/orders', body: { sku: 'A' }, signal: AbortSignal.timeout(5_000) });
  assert.equal(answer.status, 200, 'refused with not_started, then tried again');
  // The refused connection was closed by the server (Connection: close); the three idle ones only
  // the client can have closed, and the retry's connection stays open for the next call.
  assert.ok(await eventually(() => upstream.openSockets === 1, 3_000), `${upstream.openSockets} connections still open`);
});
