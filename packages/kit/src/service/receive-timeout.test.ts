import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, test } from 'node:test';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setImmediate as setImmediatePromise } from 'node:timers/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { FastifyInstance } from 'fastify';
import { Code, KitError } from '../errors/index.ts';
import { createSilentLogger } from '../testing/index.ts';
import { installBodyDrain } from './drain-request.ts';
import { installErrorHandling } from './error-handler.ts';
import { createHttpServer } from './http-server.ts';
import { installReceiveTimeout } from './receive-timeout.ts';

const receiveTimeoutMs = 300;
const idleTimeoutMs = 400;

let app: FastifyInstance;
let port: number;
// What the streamed route's handler saw of each body: its bytes, and how its read ended.
const uploads: { bytes: number; error?: string }[] = [];

before(async () => {
  app = createHttpServer(createSilentLogger('receive-timeout'), { bodyLimitBytes: 1_024, requestReceiveTimeoutMs: receiveTimeoutMs, keepAliveTimeoutMs: 5_000 });
  installReceiveTimeout(app, { receiveTimeoutMs, sweepEveryMs: 25 });
  installBodyDrain(app);
  installErrorHandling(app, {});
  app.post('/json', async (request) => ({ got: request.body }));
  // The body is the handler's to read, as an upload's is.
  app.addContentTypeParser('application/octet-stream', (_request, _payload, done) => done(null));
  app.post('/upload', { config: { bodyIdleTimeoutMs: idleTimeoutMs } }, async (request, reply) => {
    const upload: { bytes: number; error?: string } = { bytes: 0 };
    uploads.push(upload);
    try {
      await pipeline(request.raw, new Writable({ write(chunk: Buffer, _encoding, next) { upload.bytes += chunk.length; next(); } }));
    } catch (error) {
      upload.error = (error as Error).message;
      if (reply.sent) return reply;
      throw error;
    }
    return { bytes: upload.bytes };
  });
  // Reads its body slowly: each chunk takes three idle timeouts to be taken, so the request is
  // held back (paused by the pipe) longer than the idle timeout while the client has sent it all.
  app.post('/slow-upload', { config: { bodyIdleTimeoutMs: idleTimeoutMs } }, async (request) => {
    let bytes = 0;
    let first = true;
    await pipeline(request.raw, new Writable({
      highWaterMark: 1,
      write(chunk: Buffer, _encoding, next) {
        bytes += chunk.length;
        if (!first) return next();
        first = false;
        setTimeout(next, idleTimeoutMs * 3);
      },
    }));
    return { bytes };
  });
  // Reads the first bytes of its body through a pipe, then refuses it: the pipe's end leaves the
  // request paused with the rest of the body unread, as the gateway's upload route leaves it.
  app.post('/pipe-then-refuse', { config: { bodyIdleTimeoutMs: idleTimeoutMs } }, async (request) => {
    const sink = new Writable({ write(_chunk, _encoding, next) { next(); } });
    request.raw.pipe(sink);
    await new Promise((resolve) => request.raw.once('data', resolve));
    sink.destroy();
    throw new KitError(Code.ResourceExhausted, 'too large', { reason: 'body_too_large' });
  });
  // Refuses before reading a byte of the body, as a route does for a body too large by its length.
  app.post('/refuse', { config: { bodyIdleTimeoutMs: idleTimeoutMs } }, async () => {
    throw new KitError(Code.ResourceExhausted, 'too large', { reason: 'body_too_large' });
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  port = (app.server.address() as net.AddressInfo).port;
});
after(() => app.close());

interface Exchange {
  /** Everything the server sent, as text. */
  received: string;
  /** True once the server closed the connection. */
  closed: boolean;
}

/** Sends `head`, then each of `chunks` `everyMs` apart, and reads until the server closes or `giveUpMs` passes. */
async function exchange(head: string, { chunks = [], everyMs = 0, giveUpMs = 3_000 }: { chunks?: string[]; everyMs?: number; giveUpMs?: number } = {}): Promise<Exchange> {
  const socket = net.connect(port, '127.0.0.1');
  const result: Exchange = { received: '', closed: false };
  socket.on('data', (data: Buffer) => void (result.received += data.toString('latin1')));
  socket.on('error', () => undefined);
  socket.write(head);
  const ended = new Promise<void>((resolve) => socket.once('close', () => {
    result.closed = true;
    resolve();
  }));
  for (const chunk of chunks) {
    await new Promise((resolve) => setTimeout(resolve, everyMs));
    if (result.closed) break;
    socket.write(chunk);
  }
  const gaveUp = new Promise<void>((resolve) => setTimeout(resolve, giveUpMs).unref());
  await Promise.race([ended, gaveUp]);
  socket.destroy();
  return result;
}

function statusOf(received: string): number | undefined {
  const match = /^HTTP\/1\.1 (\d{3})/.exec(received);
  return match ? Number(match[1]) : undefined;
}

void test('a JSON body that stops arriving is answered 408 request_timeout, and the connection closes', async () => {
  const { received, closed } = await exchange('POST /json HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 20\r\n\r\n{"a":');
  assert.equal(statusOf(received), 408, received);
  assert.match(received, /connection: close/i);
  assert.match(received, /"reason":"request_timeout"/);
  assert.equal(closed, true);
});

void test('a JSON body that trickles past the receive timeout is cut too, though bytes keep coming', async () => {
  const { received, closed } = await exchange('POST /json HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 40\r\n\r\n{', {
    chunks: Array.from({ length: 20 }, () => ' '), everyMs: 50,
  });
  assert.equal(statusOf(received), 408, received);
  assert.equal(closed, true);
});

void test('a streamed body may take longer than the receive timeout while it keeps arriving', async () => {
  uploads.length = 0;
  // 12 chunks 100 ms apart: 1.2 s in all, four times the receive timeout, never idle for 400 ms.
  const chunks = Array.from({ length: 12 }, () => 'x'.repeat(100));
  const { received } = await exchange(`POST /upload HTTP/1.1\r\nhost: x\r\ncontent-type: application/octet-stream\r\ncontent-length: 1200\r\nconnection: close\r\n\r\n`, { chunks, everyMs: 100 });
  assert.equal(statusOf(received), 200, received);
  assert.match(received, /\{"bytes":1200\}/);
});

void test('a streamed body that stalls is answered 408 once idle too long, and its handler’s read fails', async () => {
  uploads.length = 0;
  const { received, closed } = await exchange('POST /upload HTTP/1.1\r\nhost: x\r\ncontent-type: application/octet-stream\r\ncontent-length: 100000\r\n\r\n', {
    chunks: ['x'.repeat(500), 'x'.repeat(500)], everyMs: 50,
  });
  assert.equal(statusOf(received), 408, received);
  assert.match(received, /"reason":"request_timeout"/);
  assert.equal(closed, true);
  assert.equal(uploads.length, 1);
  assert.equal(uploads[0]?.bytes, 1_000);
  assert.match(uploads[0]?.error ?? 'the read never ended', /no byte of the request arrived for 400 ms/);
});

void test('a streamed body the server itself holds back (its reader slower than the client) is not cut as idle', async () => {
  // 1 MB sent at once: more than the socket and the request buffer hold, so once the reader stops
  // taking chunks (for 1.2 s, three idle timeouts) no byte arrives because none is read.
  const body = 'x'.repeat(1_000_000);
  const { received } = await exchange(`POST /slow-upload HTTP/1.1\r\nhost: x\r\ncontent-type: application/octet-stream\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n`, { chunks: [body], giveUpMs: 5_000 });
  assert.equal(statusOf(received), 200, received.slice(0, 300));
  assert.match(received, /\{"bytes":1000000\}/);
});

void test('a body left paused by its handler\'s pipe is still read and dropped after the answer, so the connection ends with a FIN, not a reset that could throw the answer away', async () => {
  const socket = net.connect(port, '127.0.0.1');
  let received = '';
  let answered = false;
  socket.on('data', (data: Buffer) => {
    received += data.toString('latin1');
    if (received.includes('\r\n\r\n')) answered = true;
  });
  const ended = new Promise<string>((resolve) => {
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
    socket.once('end', () => resolve('end'));
  });
  socket.write(`POST /pipe-then-refuse HTTP/1.1\r\nhost: x\r\ncontent-type: application/octet-stream\r\ncontent-length: ${64 * 1024 * 1024}\r\n\r\n`);
  // Sends as a client does until it hears the answer: more than the socket buffers hold.
  const piece = Buffer.alloc(256 * 1024, 7);
  for (let sent = 0; sent < 16 * 1024 * 1024 && !answered; sent += piece.length) {
    if (!socket.write(piece)) await new Promise((resolve) => socket.once('drain', resolve).once('close', resolve));
  }
  const how = await ended;
  socket.destroy();
  assert.equal(statusOf(received), 413, received.slice(0, 200));
  assert.equal(how, 'end', 'the server closed with a FIN once it had read what was sent');
});

void test('requests that arrive whole are not touched', async () => {
  const { received } = await exchange('POST /json HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 7\r\nconnection: close\r\n\r\n{"a":1}');
  assert.equal(statusOf(received), 200, received);
  assert.match(received, /\{"got":\{"a":1\}\}/);
});

void test('an answer already on its way is not followed by a 408, however long the rest of the body stalls, and the connection closes once it is out', async () => {
  // The refusal goes out at once, and the response ends once the rest of the body has drained (at
  // most 5 s: drain-request.ts), while the client sends nothing more: the idle timeout passes
  // meanwhile, and must not answer a second time.
  const { received, closed } = await exchange('POST /refuse HTTP/1.1\r\nhost: x\r\ncontent-type: application/octet-stream\r\ncontent-length: 100000\r\n\r\n', {
    chunks: ['x'.repeat(500)], everyMs: 50, giveUpMs: 8_000,
  });
  assert.equal(statusOf(received), 413, received);
  assert.equal((received.match(/HTTP\/1\.1 /g) ?? []).length, 1, `one answer: ${received}`);
  assert.equal(closed, true);
});

void test('a request is let go with its answer, a GET or one whose body was read, not held until the next look at bodies still arriving', async () => {
  // A server of its own that looks at bodies once a minute: whatever holds a request past its
  // answer holds it that long. Node has not marked even a GET's message complete when the first
  // hook runs, so every request was kept until that look (seen: a quarter of a second, each).
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const server = createHttpServer(createSilentLogger('receive-timeout-release'), { bodyLimitBytes: 1_024, requestReceiveTimeoutMs: receiveTimeoutMs, keepAliveTimeoutMs: 5_000 });
  installReceiveTimeout(server, { receiveTimeoutMs, sweepEveryMs: 60_000 });
  const seen: Array<WeakRef<object>> = [];
  server.get('/item', async (request) => {
    seen.push(new WeakRef(request));
    return { ok: true };
  });
  server.post('/item', async (request) => {
    seen.push(new WeakRef(request));
    return { got: request.body };
  });
  const url = await server.listen({ host: '127.0.0.1', port: 0 });
  try {
    const get = await fetch(`${url}/item`);
    await get.text();
    const post = await fetch(`${url}/item`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":1}' });
    assert.deepEqual(await post.json(), { got: { a: 1 } });
    // The response's own callbacks run after the client has it; then nothing may hold the requests.
    // Collected in a turn of its own: a WeakRef read keeps its target alive to the end of the turn.
    const alive = () => seen.filter((ref) => ref.deref() !== undefined).length;
    for (let i = 0; i < 10 && alive() > 0; i++) {
      await setImmediatePromise();
      gc();
    }
    assert.equal(seen.length, 2);
    assert.deepEqual(seen.map((ref) => ref.deref() === undefined), [true, true], 'both requests collected once answered');
  } finally {
    await server.close();
  }
});
