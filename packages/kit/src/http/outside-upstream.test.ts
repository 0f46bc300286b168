import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { serviceTokenHeader } from '../auth/service-identity/service-token.ts';
import { timeoutHeader } from '../resilience/index.ts';
import { testIdentity } from '../testing/index.ts';
import { createHttpClient } from './http-client.ts';

/** A server that keeps what each request carried. */
async function startRecorder(t: { after(fn: () => unknown): void }) {
  const seen: Array<{ headers: IncomingHttpHeaders; body: string }> = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      seen.push({ headers: request.headers, body: Buffer.concat(chunks).toString('utf8') });
      response.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, seen };
}

void test('an upstream outside Baton gets no service token and no budget header, and a URLSearchParams body goes form-encoded', async (t) => {
  const recorder = await startRecorder(t);
  const send = async (outside: boolean) => {
    const client = createHttpClient({ name: 'provider', urls: recorder.url, identity: testIdentity.tokens('payment'), outside });
    t.after(() => client.close());
    await client.request({ method: 'POST', path: '/v1/payment_intents', body: new URLSearchParams({ amount: '1200', 'metadata[order_id]': 'o-1' }), idempotencyKey: 'k-1', signal: AbortSignal.timeout(5_000) });
    return recorder.seen.at(-1)!;
  };
  const ours = await send(false);
  assert.ok(ours.headers[serviceTokenHeader], 'a Baton service is sent the caller\'s token');
  assert.ok(ours.headers[timeoutHeader], 'and the remaining budget');
  const outside = await send(true);
  assert.equal(outside.headers[serviceTokenHeader], undefined);
  assert.equal(outside.headers[timeoutHeader], undefined);
  assert.equal(outside.headers['content-type'], 'application/x-www-form-urlencoded');
  assert.equal(outside.headers['idempotency-key'], 'k-1');
  assert.equal(outside.body, 'amount=1200&metadata%5Border_id%5D=o-1');
});
