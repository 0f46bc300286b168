import { test } from 'node:test';
import assert from 'node:assert/strict';
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
