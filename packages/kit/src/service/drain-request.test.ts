import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, test } from 'node:test';
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance } from 'fastify';
import { Code, KitError } from '../errors/index.ts';
import { createSilentLogger } from '../testing/index.ts';
import { installBodyDrain } from './drain-request.ts';
import { installErrorHandling } from './error-handler.ts';
import { createHttpServer } from './http-server.ts';
import { installReceiveTimeout } from './receive-timeout.ts';

const mib = 1024 * 1024;
const drainMaxBytes = 16 * mib;
const drainTimeoutMs = 1_000;

let app: FastifyInstance;
let port: number;

before(async () => {
  app = createHttpServer(createSilentLogger('drain-request'), { bodyLimitBytes: 1_024, requestReceiveTimeoutMs: 10_000, keepAliveTimeoutMs: 5_000 });
  // In the order of request-steps.ts.
  installReceiveTimeout(app, { receiveTimeoutMs: 10_000, sweepEveryMs: 25 });
  installBodyDrain(app, { maxBytes: drainMaxBytes, timeoutMs: drainTimeoutMs });
  installErrorHandling(app, {});
  app.addContentTypeParser('application/octet-stream', (_request, _payload, done) => done(null));
  // Refused once more than 1 MiB has passed, as media refuses an image too large; the pipe's end
  // leaves the rest of the body unread.
  app.post('/limited', { config: { bodyIdleTimeoutMs: 5_000 } }, async (request) => {
    await new Promise<void>((resolve) => {
      let bytes = 0;
      const store = new Writable({
        write(chunk: Buffer, _encoding, next) {
          bytes += chunk.length;
          next(bytes > mib ? new Error('larger than 1 MiB') : null);
        },
      });
      store.once('error', () => resolve());
      request.raw.pipe(store);
    });
    throw new KitError(Code.ResourceExhausted, 'larger than 1 MiB', { reason: 'body_too_large' });
  });
  // Refused before a byte of the body is read, as the gateway refuses one by its Content-Length.
  app.post('/refuse', { config: { bodyIdleTimeoutMs: 5_000 } }, async () => {
    throw new KitError(Code.ResourceExhausted, 'too large', { reason: 'body_too_large' });
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  port = (app.server.address() as net.AddressInfo).port;
});
after(() => app.close());

interface Upload {
  status: number | undefined;
  /** How the connection ended: `end` (the server's FIN), or the socket's error code (a reset). */
  how: string;
  /** The socket's error code, if it met one, even after the FIN: the server closed with bytes unread. */
  reset: string | undefined;
  sentBytes: number;
  answeredAfterMs: number | undefined;
}

/**
 * A client on a connection of its own that asks for `Connection: close` (as Node's does without an
 * agent) and writes its body in 256 KiB pieces, reading the answer as it comes. Once the answer is
 * in it sends `moreBytes` more, a piece every `moreEveryMs`, as a client that notices late, then
 * ends the body (`end`) or waits for the server to close.
 */
async function upload(path: string, { declaredBytes, moreBytes = 0, moreEveryMs = 20, end = true }: { declaredBytes?: number; moreBytes?: number; moreEveryMs?: number; end?: boolean }): Promise<Upload> {
  const socket = net.connect(port, '127.0.0.1');
  const started = performance.now();
  let received = '';
  let answeredAfterMs: number | undefined;
  let how: string | undefined;
  let reset: string | undefined;
  socket.on('data', (data: Buffer) => {
    received += data.toString('latin1');
    if (answeredAfterMs === undefined && received.includes('\r\n\r\n')) answeredAfterMs = performance.now() - started;
  });
  socket.once('error', (error: NodeJS.ErrnoException) => { reset = error.code ?? 'error'; });
  const ended = new Promise<string>((resolve) => {
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
    socket.once('end', () => resolve('end'));
  }).then((value) => (how = value));
  const closed = new Promise((resolve) => socket.once('close', resolve));
  const framing = declaredBytes === undefined ? 'transfer-encoding: chunked' : `content-length: ${declaredBytes}`;
  socket.write(`POST ${path} HTTP/1.1\r\nhost: x\r\ncontent-type: application/octet-stream\r\nconnection: close\r\n${framing}\r\n\r\n`);
  const piece = Buffer.alloc(256 * 1024, 7);
  const chunkHead = `${piece.length.toString(16)}\r\n`;
  let sentBytes = 0;
  let sentAfterAnswer = 0;
  while (how === undefined && sentBytes < (declaredBytes ?? 256 * mib)) {
    if (answeredAfterMs !== undefined) {
      if (sentAfterAnswer >= moreBytes) break;
      sentAfterAnswer += piece.length;
      if (moreEveryMs > 0) await sleep(moreEveryMs);
      if (how !== undefined) break;
    }
    sentBytes += piece.length;
    if (declaredBytes === undefined) socket.write(chunkHead);
    const flowing = socket.write(piece);
    if (declaredBytes === undefined) socket.write('\r\n');
    if (!flowing) await Promise.race([new Promise((resolve) => socket.once('drain', resolve)), ended]);
  }
  if (end && how === undefined && declaredBytes === undefined) socket.write('0\r\n\r\n');
  await Promise.race([closed, sleep(10_000, undefined, { ref: false })]);
  socket.destroy();
  const match = /^HTTP\/1\.1 (\d{3})/.exec(received);
  return { status: match ? Number(match[1]) : undefined, how: how ?? 'still open', reset, sentBytes, answeredAfterMs };
}

void test('a client still sending when an early refusal goes out reads it, and the connection then ends with a FIN, not a reset that could throw the answer away', async () => {
  // 2 MiB more once the 413 is in, over 160 ms: within the drain's bounds, so all of it is read
  // before the close.
  const { status, how, reset } = await upload('/limited', { moreBytes: 2 * mib });
  assert.equal(status, 413);
  assert.deepEqual([how, reset], ['end', undefined], 'the server closed only once it had read what the client sent');
});

void test('the refusal goes out at once, not once the body has drained; a client that then waits is closed after the drain\'s time', async () => {
  const { status, how, reset, answeredAfterMs } = await upload('/refuse', { declaredBytes: 64 * mib, end: false });
  assert.equal(status, 413);
  assert.ok(answeredAfterMs !== undefined && answeredAfterMs < drainTimeoutMs / 2, `answered after ${answeredAfterMs?.toFixed(0)} ms`);
  assert.deepEqual([how, reset], ['end', undefined]);
});

void test('bounded: a client that never stops sending is cut off once the drain\'s bytes have passed', async () => {
  const { status, how, sentBytes } = await upload('/limited', { moreBytes: Number.POSITIVE_INFINITY, moreEveryMs: 0, end: false });
  assert.notEqual(how, 'still open');
  assert.ok(sentBytes < 64 * mib, `sent ${(sentBytes / mib).toFixed(0)} MiB before the server closed`);
  // The answer went out long before: a client that reads while it sends has it.
  assert.equal(status, 413);
});
