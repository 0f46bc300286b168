import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { PassThrough } from 'node:stream';
import { createSilentLogger } from '../testing/index.ts';
import { installErrorHandling } from './error-handler.ts';
import { createHttpServer } from './http-server.ts';

/** A kit HTTP server with one route, listening on a free port. */
async function server(t: TestContext, options: Parameters<typeof createHttpServer>[2] = {}): Promise<number> {
  const app = createHttpServer(createSilentLogger('client-errors'), { bodyLimitBytes: 1_024, requestReceiveTimeoutMs: 5_000, keepAliveTimeoutMs: 5_000 }, options);
  installErrorHandling(app);
  app.get('/v1/items/:id', async (request) => ({ id: (request.params as { id: string }).id, ip: request.ip }));
  t.after(() => app.close());
  await app.listen({ host: '127.0.0.1', port: 0 });
  return (app.server.address() as { port: number }).port;
}

/** Writes `chunks` on one connection, a moment apart, and reads everything until it closes. */
function exchange(port: number, chunks: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    let received = '';
    const socket = connect(port, '127.0.0.1', async () => {
      for (const chunk of chunks) {
        socket.write(chunk);
        await new Promise((r) => setTimeout(r, 20));
      }
      socket.end();
    });
    socket.setEncoding('utf8').on('data', (data: string) => { received += data; }).on('close', () => resolve(received)).on('error', reject);
  });
}

const statusLines = (raw: string) => [...raw.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1]));

void test('headers over Node\'s limit, on a fresh connection or after a first answer on a kept-alive one, get a 431 problem document', async (t) => {
  const port = await server(t);
  const huge = `GET /v1/items/1 HTTP/1.1\r\nhost: x\r\nx-big: ${'a'.repeat(20_000)}\r\n\r\n`;
  const fresh = await exchange(port, [huge]);
  assert.deepEqual(statusLines(fresh), [431]);
  assert.match(fresh, /content-type: application\/problem\+json/);
  assert.match(fresh, /"reason":"headers_too_large"/);

  const kept = await exchange(port, ['GET /v1/items/1 HTTP/1.1\r\nhost: x\r\n\r\n', huge]);
  assert.deepEqual(statusLines(kept), [200, 431], kept);
});

void test('an unknown Expect is a 417 problem that closes the connection, so a body sent after it is never read as a second request', async (t) => {
  const port = await server(t);
  const raw = await exchange(port, ['GET /v1/items/1 HTTP/1.1\r\nhost: x\r\nexpect: something\r\n\r\n', 'not a request at all\r\n\r\n']);
  assert.deepEqual(statusLines(raw), [417], `one answer only:\n${raw}`);
  assert.match(raw, /connection: close/i);
  assert.match(raw, /"reason":"expectation_failed"/);
});

void test('a path that is not UTF-8 once decoded is a 400 bad_path, and a parameter over the router\'s limit a 414, both problem documents', async (t) => {
  const port = await server(t);
  const badPath = await exchange(port, ['GET /v1/items/%ED%A0%80 HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n']);
  assert.deepEqual(statusLines(badPath), [400]);
  assert.match(badPath, /"reason":"bad_path"/);
  assert.match(badPath, /"field":"path"/);
  const long = await exchange(port, [`GET /v1/items/${'x'.repeat(101)} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n`]);
  assert.deepEqual(statusLines(long), [414]);
  assert.match(long, /content-type: application\/problem\+json/);
});

void test('X-Forwarded-For gives the client address only from a trusted proxy', async (t) => {
  const ask = (port: number) => exchange(port, ['GET /v1/items/1 HTTP/1.1\r\nhost: x\r\nx-forwarded-for: 198.51.100.7\r\nconnection: close\r\n\r\n']);
  assert.match(await ask(await server(t)), /"ip":"127\.0\.0\.1"/, 'no proxy trusted: the socket\'s address');
  assert.match(await ask(await server(t, { trustedProxies: ['127.0.0.0/8'] })), /"ip":"198\.51\.100\.7"/, 'behind a trusted proxy: the client\'s');
});

void test('a client that goes away in the middle of its body: the request is told at once (its stream fails as aborted), not left waiting for the rest', async (t) => {
  const app = createHttpServer(createSilentLogger('client-errors'), { bodyLimitBytes: 1_024, requestReceiveTimeoutMs: 0, keepAliveTimeoutMs: 5_000 });
  installErrorHandling(app);
  app.addContentTypeParser('application/octet-stream', (_request, _payload, done) => done(null));
  let heard: (outcome: string) => void = () => undefined;
  const outcome = new Promise<string>((resolve) => { heard = resolve; });
  app.post('/v1/uploads', async (request) => {
    // Read as an upload reads it: piped on, into something slower than the network.
    const body = new PassThrough();
    request.raw.pipe(body);
    request.raw.once('close', () => heard(request.raw.complete ? 'complete' : 'cut short'));
    body.resume();
    await outcome;
    return {};
  });
  t.after(() => app.close());
  await app.listen({ host: '127.0.0.1', port: 0 });
  const socket = connect((app.server.address() as { port: number }).port, '127.0.0.1');
  socket.write('POST /v1/uploads HTTP/1.1\r\nhost: x\r\ncontent-type: application/octet-stream\r\ncontent-length: 4194304\r\n\r\n');
  socket.write(Buffer.alloc(1024 * 1024, 1), () => socket.destroy());
  // No deadline, no receive timeout: only the end of the connection can tell the request.
  const timer = setTimeout(() => heard('never told'), 5_000);
  assert.equal(await outcome, 'cut short');
  clearTimeout(timer);
});
