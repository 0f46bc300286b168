import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import http2 from 'node:http2';
import type net from 'node:net';
import { takeStreamsFirst } from './streams-first.ts';

test('takeStreamsFirst: a stream it takes never reaches the request listener; the others do, as Node made them', async (t) => {
  const requests: string[] = [];
  const server = http2.createServer((req, res) => {
    requests.push(req.url);
    res.end('from the request listener');
  });
  takeStreamsFirst(server, (stream, headers) => {
    if (headers[':path'] !== '/taken') return false;
    stream.respond({ ':status': 200 });
    stream.end('taken');
    return true;
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const session = http2.connect(`http://127.0.0.1:${(server.address() as net.AddressInfo).port}`);
  t.after(() => new Promise<void>((resolve) => { session.close(); server.close(() => resolve()); }));
  const get = (path: string) => new Promise<string>((resolve, reject) => {
    const stream = session.request({ ':path': path });
    let body = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => { body += chunk; });
    stream.on('end', () => resolve(body));
    stream.on('error', reject);
  });
  assert.equal(await get('/taken'), 'taken');
  assert.equal(await get('/other'), 'from the request listener');
  assert.deepEqual(requests, ['/other']);
});

test('takeStreamsFirst refuses a server it cannot put itself in front of', () => {
  assert.throws(() => takeStreamsFirst(http2.createServer(), () => false), /request listener/);
  const twice = http2.createServer(() => undefined);
  twice.on('stream', () => undefined);
  assert.throws(() => takeStreamsFirst(twice, () => false), /no other stream listener/);
});

// What takeStreamsFirst relies on in Node's HTTP/2 server, none of it documented: Node adds its
// compatibility layer (lib/internal/http2/compat.js) as the server's one 'stream' listener, a
// bound `onServerStream(ServerRequest, ServerResponse, stream, headers, flags, rawHeaders)`,
// when the first 'request' listener arrives, and that listener alone makes a request and a
// response of a stream. If one of these fails after a Node upgrade, read that Node's
// lib/internal/http2/core.js (setupCompat, onServerStream) before moving the pin.
test("Node's HTTP/2 server still puts its compatibility layer on as one bound onServerStream 'stream' listener", () => {
  const withHandler = http2.createServer(() => undefined);
  const listeners = withHandler.listeners('stream') as Array<(...args: unknown[]) => void>;
  assert.equal(listeners.length, 1);
  assert.equal(listeners[0]?.name, 'bound onServerStream');
  assert.equal(listeners[0]?.length, 4, '(stream, headers, flags, rawHeaders) once its two classes are bound');
  assert.equal(withHandler.listenerCount('request'), 1);

  // Added with the first request listener, not by the server itself.
  const later = http2.createServer();
  assert.equal(later.listenerCount('stream'), 0);
  later.on('request', () => undefined);
  assert.equal((later.listeners('stream')[0] as (...args: unknown[]) => void).name, 'bound onServerStream');
});

test('the Node that runs the kit is the one version takeStreamsFirst is checked against (packages/kit/package.json engines)', () => {
  const kit = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { engines?: { node?: string } };
  assert.match(kit.engines?.node ?? '', /^\d+\.\d+\.\d+$/, 'one exact version, no range');
  assert.equal(process.version, `v${kit.engines?.node}`);
});
