import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Code } from '../errors/index.ts';
import { createHttpClient } from './http-client.ts';
import { type Upstream, delayUnlessClosed, eventually, sendJson, startUpstream } from '../testing/index.ts';

void describe('the client\'s pools and lifecycle', () => {
  let upstream: Upstream;
  let connections = 0;
  before(async () => {
    upstream = await startUpstream(async (req, res) => {
      if (req.url === '/slow') await delayUnlessClosed(res, 200);
      if (req.url === '/empty' || req.method === 'HEAD') {
        res.writeHead(req.method === 'HEAD' ? 200 : 204, { 'content-type': 'application/json', 'content-length': req.method === 'HEAD' ? '42' : '0' });
        return void res.end();
      }
      sendJson(res, 200, { ok: true });
    });
    upstream.server.on('connection', () => connections++);
  });
  after(() => upstream.close());

  void test('calls one after another reuse kept-alive connections instead of opening one each', async () => {
    const client = createHttpClient({ name: 'catalog', urls: [upstream.url] });
    try {
      const before = connections;
      for (let i = 0; i < 20; i++) await client.request({ method: 'GET', path: '/p', signal: AbortSignal.timeout(2_000) });
      // undici opens a second socket when the next call is sent in the same tick the first
      // answer ends (its socket is not free yet); from then on the two are reused.
      assert.ok(connections - before <= 2, `${connections - before} connections for 20 calls`);
      assert.ok((client.stats().instances[0]?.connections ?? Infinity) <= 2);
    } finally {
      await client.close();
    }
  });

  void test('an empty answer (204) is read to its end, so its socket is reused too; HEAD sockets do not pile up', async () => {
    const client = createHttpClient({ name: 'catalog', urls: [upstream.url] });
    try {
      const before = connections;
      for (let i = 0; i < 10; i++) assert.equal((await client.request({ method: 'DELETE', path: '/empty', signal: AbortSignal.timeout(2_000) })).body, undefined);
      assert.ok(connections - before <= 2, `${connections - before} connections for 10 calls`);
      // undici closes the socket after every HEAD on purpose (servers that send a body to a HEAD
      // would corrupt the next answer), so HEAD only has to leave nothing open.
      for (let i = 0; i < 10; i++) assert.equal((await client.request({ method: 'HEAD', path: '/p', signal: AbortSignal.timeout(2_000) })).status, 200);
      assert.ok(await eventually(() => upstream.openSockets <= 2), `${upstream.openSockets} sockets open`);
    } finally {
      await client.close();
    }
  });

  void test('no more than connectionsPerInstance sockets, however many calls are in flight', async () => {
    const client = createHttpClient({ name: 'catalog', urls: [upstream.url], connectionsPerInstance: 4 });
    try {
      const before = connections;
      await Promise.all(Array.from({ length: 20 }, () => client.request({ method: 'GET', path: '/slow', signal: AbortSignal.timeout(5_000) })));
      assert.ok(connections - before <= 4, `${connections - before} connections`);
    } finally {
      await client.close();
    }
  });

  void test('close waits for the calls in flight, then refuses new ones and closes every socket', async () => {
    const client = createHttpClient({ name: 'catalog', urls: [upstream.url] });
    const inFlight = client.request<{ ok: boolean }>({ method: 'GET', path: '/slow', signal: AbortSignal.timeout(5_000) });
    await eventually(() => client.stats().instances[0]?.outstanding === 1);
    const closing = client.close();
    await assert.rejects(client.request({ method: 'GET', path: '/p', signal: AbortSignal.timeout(2_000) }), { code: Code.Unavailable, reason: 'client_closed' });
    assert.deepEqual((await inFlight).body, { ok: true });
    await closing;
    assert.ok(await eventually(() => upstream.openSockets === 0), `${upstream.openSockets} sockets still open`);
  });
});
