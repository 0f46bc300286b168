import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { after, before, test } from 'node:test';
import { Pool } from 'undici';
import { type Upstream, delayUnlessClosed, eventually, refusedUrl, sendJson, startUpstream } from '../testing/index.ts';
import { requestWhole } from './whole-answer.ts';

let upstream: Upstream;
const keepAll = () => ({ keep: true, limitBytes: 1_000 });

before(async () => {
  upstream = await startUpstream(async (req, res) => {
    switch (req.url) {
      case '/ok': return sendJson(res, 200, { ok: true });
      case '/slow':
        await delayUnlessClosed(res, 300);
        if (!res.destroyed) sendJson(res, 200, { late: true });
        return;
      case '/hint':
        res.writeEarlyHints({ link: '</style.css>; rel=preload' });
        return sendJson(res, 200, { after: 'hint' });
      case '/declared-large':
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': '5000' });
        res.write('{"a":"');
        await delayUnlessClosed(res, 2_000);
        return void res.destroy();
      case '/chunked-large':
        res.writeHead(500, { 'content-type': 'text/plain' });
        for (let i = 0; i < 10 && !res.destroyed; i++) {
          res.write('x'.repeat(500));
          await delayUnlessClosed(res, 20);
        }
        return void res.end();
      case '/stall':
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
        res.write('{"partial": "');
        await delayUnlessClosed(res, 2_000);
        return void res.destroy();
    }
  });
});

after(() => upstream.close());

test('an answer is read whole, its connection handed back for the next request', async () => {
  const pool = new Pool(upstream.url, { connections: 1 });
  const signal = new AbortController().signal;
  const first = await requestWhole(pool, { method: 'GET', path: '/ok', headers: {}, body: undefined }, signal, keepAll);
  const second = await requestWhole(pool, { method: 'GET', path: '/ok', headers: {}, body: undefined }, signal, keepAll);
  assert.deepEqual(first.ok && JSON.parse(first.text ?? ''), { ok: true });
  assert.equal(second.ok && second.status, 200);
  assert.equal(pool.stats.connected, 1, 'one keep-alive connection served both');
  await pool.close();
});

test('an informational answer (103 Early Hints) is passed over for the real one', async () => {
  const pool = new Pool(upstream.url);
  const answer = await requestWhole(pool, { method: 'GET', path: '/hint', headers: {}, body: undefined }, new AbortController().signal, keepAll);
  assert.ok(answer.ok);
  assert.equal(answer.status, 200);
  assert.deepEqual(JSON.parse(answer.text ?? ''), { after: 'hint' });
  await pool.close();
});

test('a body declared past its limit is not read: the answer comes without text and its connection closes', async () => {
  const pool = new Pool(upstream.url);
  const before = upstream.aborted;
  const answer = await requestWhole(pool, { method: 'GET', path: '/declared-large', headers: {}, body: undefined }, new AbortController().signal, keepAll);
  assert.ok(answer.ok);
  assert.equal(answer.status, 200);
  assert.equal(answer.text, undefined);
  // The server sees its response cut long before its own 2 s end.
  assert.ok(await eventually(() => upstream.aborted === before + 1, 1_000), 'the server saw its response cut');
  await pool.close();
});

test('a body dropped unread is cut when it grows past its limit, not read to its end', async () => {
  const pool = new Pool(upstream.url);
  const before = upstream.aborted;
  const answer = await requestWhole(pool, { method: 'GET', path: '/chunked-large', headers: {}, body: undefined }, new AbortController().signal, () => ({ keep: false, limitBytes: 1_200 }));
  assert.ok(answer.ok);
  assert.equal(answer.status, 500);
  assert.equal(answer.text, undefined);
  assert.ok(await eventually(() => upstream.aborted === before + 1, 1_000), 'the server saw its response cut');
  await pool.close();
});

test('a signal that fires while the request waits for a connection ends the wait at once, and the request is never sent', async () => {
  const pool = new Pool(upstream.url, { connections: 1 });
  const hits = upstream.hits;
  const busy = requestWhole(pool, { method: 'GET', path: '/slow', headers: {}, body: undefined }, new AbortController().signal, keepAll);
  const controller = new AbortController();
  const queued = requestWhole(pool, { method: 'GET', path: '/ok', headers: {}, body: undefined }, controller.signal, keepAll);
  const reason = new Error('the caller left');
  controller.abort(reason);
  const ended = await Promise.race([queued, busy.then(() => 'the busy request ended first' as const)]);
  assert.deepEqual(ended, { ok: false, thrown: reason, status: undefined });
  assert.equal((await busy).ok, true);
  // Its turn came once the busy one was answered: dropped unsent.
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(upstream.hits, hits + 1, 'only the busy request reached the server');
  await pool.close();
});

test('a signal that fires halfway through a body ends the answer with its reason and closes the connection', async () => {
  const pool = new Pool(upstream.url);
  const before = upstream.aborted;
  const controller = new AbortController();
  const pending = requestWhole(pool, { method: 'GET', path: '/stall', headers: {}, body: undefined }, controller.signal, keepAll);
  assert.ok(await eventually(() => pool.stats.running === 1));
  await new Promise((resolve) => setTimeout(resolve, 50));
  const reason = new Error('deadline');
  controller.abort(reason);
  assert.deepEqual(await pending, { ok: false, thrown: reason, status: 200 });
  assert.ok(await eventually(() => upstream.aborted === before + 1, 1_000), 'the server saw its response cut');
  await pool.close();
});

test('a request that fails on the wire is a NoAnswer, and its streamed body is destroyed', async () => {
  const pool = new Pool(await refusedUrl());
  const body = new PassThrough();
  const closed = new Promise((resolve) => body.once('close', resolve));
  const answer = await requestWhole(pool, { method: 'POST', path: '/', headers: {}, body }, new AbortController().signal, keepAll);
  assert.equal(answer.ok, false);
  assert.equal(!answer.ok && (answer.thrown as NodeJS.ErrnoException).code, 'ECONNREFUSED');
  await closed;
  assert.equal(body.destroyed, true);
  await pool.close();
});

test('a closed dispatcher is a NoAnswer, not a throw', async () => {
  const pool = new Pool(upstream.url);
  await pool.close();
  const answer = await requestWhole(pool, { method: 'GET', path: '/ok', headers: {}, body: undefined }, new AbortController().signal, keepAll);
  assert.equal(answer.ok, false);
  assert.match(!answer.ok ? (answer.thrown as Error).name : 'an answer', /^Client(Closed|Destroyed)Error$/);
});
