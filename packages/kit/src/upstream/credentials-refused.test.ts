import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { serviceTokenHeader } from '../auth/service-identity/service-token.ts';
import { Code, KitError } from '../errors/index.ts';
import { createHttpClient } from '../http/index.ts';
import { testIdentity } from '../testing/index.ts';

// An upstream that refuses the first service token it is sent (as one signed by a clock 5
// minutes ahead is refused) and accepts any other: what the caller's own caller hears, and what
// the next call carries.
void test('a refused service token is the caller\'s 503, never its 401, and is never sent again', async (t) => {
  const tokens: string[] = [];
  const server = createServer((req, res) => {
    const token = String(req.headers[serviceTokenHeader]);
    tokens.push(token);
    if (tokens[0] === token) {
      res.writeHead(401, { 'content-type': 'application/problem+json' })
        .end(JSON.stringify({ status: 401, title: 'Unauthorized', code: 'unauthenticated', reason: 'service_token_invalid', detail: 'the service credential is not valid' }));
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }));
  const client = createHttpClient({ name: 'inventory', urls: `http://127.0.0.1:${(server.address() as { port: number }).port}`, identity: testIdentity.tokens('orders') });
  t.after(() => client.close());

  const call = () => client.request({ method: 'GET', path: '/v1/things', signal: AbortSignal.timeout(5_000) });
  await assert.rejects(call(), (error: unknown) => error instanceof KitError && error.code === Code.Unavailable && error.reason === 'credentials_refused');
  assert.equal(tokens.length, 1, 'not tried again with the same token');
  assert.equal((await call()).status, 200);
  assert.equal(tokens.length, 2);
  assert.notEqual(tokens[1], tokens[0], 'the next call carried a new token');
});
