import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { after, before, describe, test } from 'node:test';
import { Code, KitError, problemContentType, toProblem } from '../errors/index.ts';
import {
  type Upstream, createFakeClock, eventually, generateBytes, hashingSink, liveBytesAfterGc, peakSampler, refusedUrl, sendJson, startUpstream,
} from '../testing/index.ts';
import type { HttpClientEvent } from '../upstream/events.ts';
import { UpstreamError } from '../upstream/upstream-error.ts';
import { createHttpClient } from './http-client.ts';

const MiB = 1024 * 1024;
const octetStream = { 'content-type': 'application/octet-stream' };

// Read by the upload test: the most memory the process held while the upstream received.
let peak = peakSampler(2 * MiB);
// The upstream's side of the requests it holds open (the last one last), and a hook on their data.
const held: Array<{ req: IncomingMessage; receivedBytes: number }> = [];
let onHeldData: (() => void) | undefined;

async function handler(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const route = new URL(req.url ?? '/', 'http://x');
  switch (route.pathname) {
    case '/blob': {
      const received = hashingSink((bytes) => peak.at(bytes));
      await pipeline(req, received.sink);
      return sendJson(res, 200, { bytes: received.receivedBytes, sha256: received.sha256() });
    }
    case '/reset':
      return void req.once('data', () => req.socket.destroy());
    case '/hold': {
      // Reads and never answers: only the caller can end the call.
      const state = { req, receivedBytes: 0 };
      held.push(state);
      req.on('data', (chunk: Buffer) => {
        state.receivedBytes += chunk.length;
        onHeldData?.();
      });
      return;
    }
    case '/too-large': {
      // Answers before reading a byte, as a server that knows the size from the headers does.
      const text = JSON.stringify(toProblem(new KitError(Code.ResourceExhausted, 'the image is larger than the limit', { reason: 'body_too_large' })));
      const close = route.searchParams.get('close') === '1' ? { connection: 'close' } : {};
      res.writeHead(413, { 'content-type': problemContentType, 'content-length': Buffer.byteLength(text), ...close });
      return void res.end(text);
    }
    default:
      return sendJson(res, 404, { path: route.pathname });
  }
}

void describe('a streamed request body', () => {
  let upstream: Upstream;
  before(async () => {
    upstream = await startUpstream(handler);
  });
  after(() => upstream.close());

  void test('20 MiB reach the upstream byte for byte, with the caller\'s content-type and length, never held whole', async () => {
    const client = createHttpClient({ name: 'media', urls: [upstream.url], timeoutMs: 60_000 });
    const put = (bytes: number) => {
      const upload = generateBytes(bytes);
      const response = client.request<{ bytes: number; sha256: string }>({
        method: 'PUT', path: '/blob', body: upload.stream, headers: { ...octetStream, 'content-length': String(bytes) }, signal: AbortSignal.timeout(60_000),
      });
      return { upload, response };
    };
    try {
      // Once first, so what the first call sets up for good (undici's pool, the hash) is in the baseline.
      await put(4 * MiB).response;
      const baselineBytes = liveBytesAfterGc();
      peak = peakSampler(2 * MiB);
      const size = 20 * MiB;
      const { upload, response } = put(size);
      const { body } = await response;
      assert.deepEqual(body, { bytes: size, sha256: upload.sha256() });
      const sent = upstream.received.at(-1);
      assert.equal(sent?.['content-type'], 'application/octet-stream');
      assert.equal(sent?.['content-length'], String(size));
      assert.equal(sent?.['transfer-encoding'], undefined);

      // Sampled every 2 MiB the upstream received: a client that read the stream whole before
      // sending (or held what it sent) keeps 20 MiB alive by the first sample (16 MiB more was
      // seen with a client that did). What is in flight is the streams' and sockets' buffers:
      // 0.35 MiB was seen here; the bound leaves room for the collector's noise.
      assert.ok(peak.samples >= 5, `${peak.samples} samples`);
      const grownBytes = peak.peak - baselineBytes;
      assert.ok(grownBytes < 4 * MiB, `memory grew by ${(grownBytes / MiB).toFixed(1)} MiB during a ${size / MiB} MiB upload`);
    } finally {
      await client.close();
    }
  });

  void test('is sent once: never retried after a reset, nor after a refused connection, whatever its method and key', async () => {
    const events: HttpClientEvent[] = [];
    // A PUT with an idempotency key is as repeatable as a call gets: a JSON body would be tried 3 times.
    const client = createHttpClient({ name: 'media', urls: [upstream.url], retry: { maxAttempts: 3, baseDelayMs: 1 }, onEvent: (event) => events.push(event) });
    const refused = createHttpClient({ name: 'media', urls: [await refusedUrl()], retry: { maxAttempts: 3, baseDelayMs: 1 }, onEvent: (event) => events.push(event) });
    try {
      const hitsBefore = upstream.hits;
      const upload = generateBytes(4 * MiB);
      await assert.rejects(
        client.request({ method: 'PUT', path: '/reset', body: upload.stream, headers: octetStream, idempotencyKey: 'image-1', signal: AbortSignal.timeout(10_000) }),
        { code: Code.Unavailable, reason: 'connection_reset' },
      );
      assert.equal(upstream.hits - hitsBefore, 1, 'the upstream saw the upload once');
      assert.ok(upload.stream.destroyed, 'the source stream is destroyed, so whatever feeds it stops');

      // A refused connection is retried for any other call, since the upstream never saw it.
      const unsent = generateBytes(MiB);
      await assert.rejects(
        refused.request({ method: 'PUT', path: '/blob', body: unsent.stream, headers: octetStream, idempotencyKey: 'image-2', signal: AbortSignal.timeout(10_000) }),
        { code: Code.Unavailable, reason: 'connection_refused' },
      );
      assert.ok(unsent.stream.destroyed);

      assert.equal(events.filter((event) => event.type === 'attempt_start').length, 2, 'one attempt per call');
      assert.deepEqual(events.filter((event) => event.type === 'retry'), []);
    } finally {
      await client.close();
      await refused.close();
    }
  });

  void test('is not hedged, even as a read asking for it', async () => {
    const clock = createFakeClock();
    const second = await startUpstream(handler);
    const client = createHttpClient({ name: 'media', urls: [upstream.url, second.url], clock, timeoutMs: 60_000 });
    try {
      const hitsBefore = upstream.hits;
      const upload = generateBytes(4 * MiB);
      const arrived = new Promise<void>((resolve) => (onHeldData = resolve));
      const outcome = client.request({ method: 'GET', path: '/hold', body: upload.stream, headers: octetStream, hedge: { delayMs: 10 }, signal: AbortSignal.timeout(10_000) })
        .then(() => undefined, (thrown: unknown) => thrown);
      await arrived;
      // Far past the hedge's delay on the client's clock: a hedged call has sent its copy by now.
      await clock.advance(1_000);
      assert.equal(client.stats().hedges, 0);
      assert.equal(upstream.hits - hitsBefore + second.hits, 1, 'one copy reached an upstream');
      for (const { req } of held) req.socket.destroy();
      assert.ok(await outcome instanceof KitError);
    } finally {
      onHeldData = undefined;
      for (const { req } of held) req.socket.destroy();
      await client.close();
      await second.close();
    }
  });

  void test('a caller that gives up mid-upload destroys the source with its reason, and the upstream sees the request end early', async () => {
    const client = createHttpClient({ name: 'media', urls: [upstream.url], timeoutMs: 60_000 });
    try {
      const size = 64 * MiB;
      const upload = generateBytes(size);
      const caller = new AbortController();
      const arrived = new Promise<void>((resolve) => (onHeldData = resolve));
      const call = client.request({ method: 'PUT', path: '/hold', body: upload.stream, headers: { ...octetStream, 'content-length': String(size) }, signal: caller.signal });
      await arrived;
      caller.abort(new KitError(Code.Canceled, 'the shopper went away'));
      await assert.rejects(call, { code: Code.Canceled, message: 'the shopper went away' });

      assert.ok(upload.stream.destroyed);
      assert.ok(upload.stream.errored instanceof KitError, `the source was destroyed with ${String(upload.stream.errored)}`);
      assert.equal(upload.stream.errored.code, Code.Canceled);
      assert.ok(upload.producedBytes < size, 'the source was not read to its end');
      const request = held.at(-1)?.req;
      assert.ok(request !== undefined);
      assert.ok(await eventually(() => request.destroyed), 'the upstream\'s request is still open');
      assert.equal(request.complete, false, 'the upstream saw the whole body');
      assert.ok((held.at(-1)?.receivedBytes ?? size) < size);
    } finally {
      onHeldData = undefined;
      await client.close();
    }
  });

  for (const close of [false, true]) {
    void test(`an upstream that answers 413 before reading the body${close ? ' and closes the connection' : ''} is heard: resource_exhausted, not a transport error`, async () => {
      const client = createHttpClient({ name: 'media', urls: [upstream.url], timeoutMs: 60_000 });
      try {
        const size = 20 * MiB;
        const upload = generateBytes(size);
        const rejection = await client.request({
          method: 'PUT', path: '/too-large', query: close ? { close: 1 } : undefined, body: upload.stream, headers: { ...octetStream, 'content-length': String(size) }, signal: AbortSignal.timeout(30_000),
        }).then(() => undefined, (thrown: unknown) => thrown);
        assert.ok(rejection instanceof KitError, `rejected with ${String(rejection)}`);
        assert.equal(rejection.code, Code.ResourceExhausted);
        assert.equal(rejection.reason, 'body_too_large');
        assert.equal(rejection.message, 'the image is larger than the limit');
        assert.ok(rejection.cause instanceof UpstreamError);
        assert.equal(rejection.cause.status, 413);
        // undici stops sending when the answer is complete, and closes that connection.
        assert.ok(await eventually(() => upload.stream.destroyed));
        assert.ok(upload.producedBytes < size, `${upload.producedBytes} of ${size} bytes were read from the source`);
      } finally {
        await client.close();
      }
    });
  }
});
