import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { once } from 'node:events';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { after, before, describe, test } from 'node:test';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace';
import { Code, KitError } from '../errors/index.ts';
import { createTracing } from '../telemetry/tracing/tracing.ts';
import { ATTR_BATON_ERROR_CODE } from '../telemetry/tracing/attributes.ts';
import {
  type GeneratedBytes, type Upstream, createFakeClock, eventually, generateBytes, hashingSink, liveBytesAfterGc, peakSampler, startUpstream,
} from '../testing/index.ts';
import { UpstreamError } from '../upstream/upstream-error.ts';
import { createHttpClient } from './http-client.ts';
import type { HttpClient } from './http-client-types.ts';

const MiB = 1024 * 1024;

// The last /big body the upstream sent (every byte is made before it is sent), and how many
// times /flaky was asked.
let lastImage: GeneratedBytes | undefined;
let flakyHits = 0;

async function handler(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const route = new URL(req.url ?? '/', 'http://x');
  switch (route.pathname) {
    case '/big': {
      const bytes = Number(route.searchParams.get('bytes'));
      const image = generateBytes(bytes);
      lastImage = image;
      res.writeHead(200, { 'content-type': 'image/png', 'content-length': bytes });
      // pipeline honours the client's pace: the upstream never holds the image whole either.
      return pipeline(image.stream, res);
    }
    case '/endless': {
      // Sends until the client goes away; only the client's side can end it.
      res.writeHead(200, { 'content-type': 'image/png' });
      const image = generateBytes(Number.MAX_SAFE_INTEGER);
      await pipeline(image.stream, res).catch(() => undefined);
      return;
    }
    case '/cached':
      res.writeHead(304, { etag: '"v1"' });
      return void res.end();
    case '/range':
      res.writeHead(416, { 'content-range': 'bytes */1000' });
      return void res.end();
    case '/down':
      res.writeHead(503, { 'content-type': 'application/problem+json' });
      return void res.end(JSON.stringify({ code: 'unavailable', detail: 'the store is down' }));
    case '/flaky':
      // The first ask is cut before any answer starts; the next is answered.
      if (flakyHits++ === 0) return void req.socket.destroy();
      res.writeHead(200, { 'content-type': 'text/plain' });
      return void res.end('second time');
    default:
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': 5 });
      return void res.end('small');
  }
}

async function readAll(body: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

const signal = () => AbortSignal.timeout(30_000);

// Every socket of the instance back in the pool, idle.
const isIdle = (instance: { connections: number; idleConnections: number } | undefined) => instance !== undefined && instance.connections > 0 && instance.idleConnections === instance.connections;

void describe('a streamed response', () => {
  let upstream: Upstream;
  let connections = 0;
  before(async () => {
    upstream = await startUpstream(handler);
    upstream.server.on('connection', () => connections++);
  });
  after(() => upstream.close());

  // A body the client failed to end (when an assertion failed) would keep close() waiting for
  // good: the upstream cuts its connections, and the body drains, so the client sees the end.
  async function closeAfterFailure(client: HttpClient, body: Readable | undefined): Promise<void> {
    body?.resume();
    upstream.server.closeAllConnections();
    await client.close();
  }

  void test('20 MiB are piped through byte for byte, never held whole, and the connection goes back to the pool', async () => {
    const client = createHttpClient({ name: 'media', urls: [upstream.url], timeoutMs: 60_000 });
    try {
      // Once first, so what the first call sets up for good is in the baseline.
      await pipeline((await client.stream({ method: 'GET', path: '/big', query: { bytes: 4 * MiB }, signal: signal() })).body, hashingSink().sink);
      const baselineBytes = liveBytesAfterGc();
      const size = 20 * MiB;
      const peak = peakSampler(2 * MiB);
      const image = await client.stream({ method: 'GET', path: '/big', query: { bytes: size }, signal: signal() });
      assert.equal(image.status, 200);
      assert.equal(image.headers['content-type'], 'image/png');
      assert.equal(upstream.received.at(-1)?.accept, '*/*');
      const received = hashingSink((bytes) => peak.at(bytes));
      await pipeline(image.body, received.sink);
      assert.equal(received.receivedBytes, size);
      assert.equal(received.sha256(), lastImage?.sha256());

      // Sampled every 2 MiB the caller received: a client that read the body whole before
      // handing it on keeps 20 MiB alive by the first sample. 0.35 MiB was seen here (the
      // streams' and sockets' buffers); the bound leaves room for the collector's noise.
      assert.ok(peak.samples >= 5, `${peak.samples} samples`);
      const grownBytes = peak.peak - baselineBytes;
      assert.ok(grownBytes < 4 * MiB, `memory grew by ${(grownBytes / MiB).toFixed(1)} MiB during a ${size / MiB} MiB download`);

      // Read to its end, the body gave its connection back: every socket is idle, and reused.
      assert.ok(await eventually(() => isIdle(client.stats().instances[0])), JSON.stringify(client.stats().instances[0]));
      const before = connections;
      assert.equal(await readAll((await client.stream({ method: 'GET', path: '/small', signal: signal() })).body), 'small');
      assert.equal(connections, before, 'a new connection was opened');
    } finally {
      await client.close();
    }
  });

  void test('a 304 and a 416 are answers when the caller accepts them, and errors when it does not', async () => {
    const client = createHttpClient({ name: 'media', urls: [upstream.url] });
    try {
      const notModified = await client.stream({ method: 'GET', path: '/cached', signal: signal() }, { acceptStatuses: [304, 416] });
      assert.equal(notModified.status, 304);
      assert.equal(notModified.headers.etag, '"v1"');
      assert.equal(await readAll(notModified.body), '');
      const unsatisfiable = await client.stream({ method: 'GET', path: '/range', signal: signal() }, { acceptStatuses: [304, 416] });
      assert.equal(unsatisfiable.status, 416);
      assert.equal(unsatisfiable.headers['content-range'], 'bytes */1000');
      assert.equal(await readAll(unsatisfiable.body), '');

      const rejection = await client.stream({ method: 'GET', path: '/range', signal: signal() }).then(() => undefined, (thrown: unknown) => thrown);
      assert.ok(rejection instanceof KitError);
      assert.ok(rejection.cause instanceof UpstreamError);
      assert.equal(rejection.cause.status, 416);
    } finally {
      await client.close();
    }
  });

  void test('a 503 rejects as unavailable and counts against the instance\'s breaker; a 2xx counts as a success', async () => {
    const client = createHttpClient({ name: 'media', urls: [upstream.url], retry: { maxAttempts: 1 }, breaker: { consecutiveFailures: 2, openDurationMs: 60_000 } });
    const down = () => client.stream({ method: 'GET', path: '/down', signal: signal() });
    try {
      await assert.rejects(down(), { code: Code.Unavailable, message: 'the store is down' });
      // A success between two failures: the two are not in a row.
      assert.equal(await readAll((await client.stream({ method: 'GET', path: '/small', signal: signal() })).body), 'small');
      await assert.rejects(down(), { code: Code.Unavailable });
      assert.equal(client.stats().instances[0]?.breaker, 'closed');
      await assert.rejects(down(), { code: Code.Unavailable });
      assert.equal(client.stats().instances[0]?.breaker, 'open');
      const hits = upstream.hits;
      await assert.rejects(client.stream({ method: 'GET', path: '/small', signal: signal(), timeoutMs: 100 }), { code: Code.Unavailable, reason: 'circuit_open' });
      assert.equal(upstream.hits, hits, 'an open circuit must not reach the network');
    } finally {
      await client.close();
    }
  });

  void test('a GET is retried when the connection fails before the answer starts', async () => {
    const client = createHttpClient({ name: 'media', urls: [upstream.url], retry: { maxAttempts: 2, baseDelayMs: 1 } });
    try {
      flakyHits = 0;
      const answer = await client.stream({ method: 'GET', path: '/flaky', signal: signal() });
      assert.equal(await readAll(answer.body), 'second time');
      assert.equal(flakyHits, 2);
      assert.equal(client.stats().retries, 1);
    } finally {
      await client.close();
    }
  });

  void test('a body its caller destroys mid-way closes its connection, and leaves the client working', async () => {
    const client = createHttpClient({ name: 'media', urls: [upstream.url] });
    let opened: Readable | undefined;
    try {
      const aborted = upstream.aborted;
      const { body } = await client.stream({ method: 'GET', path: '/endless', signal: signal() });
      opened = body;
      await once(body, 'readable');
      body.destroy();
      assert.ok(await eventually(() => upstream.aborted === aborted + 1), 'the upstream still sends');
      assert.ok(await eventually(() => upstream.openSockets === 0), `the upstream still sees ${upstream.openSockets} sockets`);
      const [instance] = client.stats().instances;
      assert.equal(instance?.connections, 0);
      assert.equal(instance?.outstanding, 0);

      assert.equal(await readAll((await client.stream({ method: 'GET', path: '/small', signal: signal() })).body), 'small');
      assert.ok(await eventually(() => isIdle(client.stats().instances[0])));
    } finally {
      await closeAfterFailure(client, opened);
    }
  });

  void test('the call\'s deadline covers the body: it fires mid-body and destroys it with deadline_exceeded; a body read to its end lets go of it', async () => {
    const clock = createFakeClock();
    const client = createHttpClient({ name: 'media', urls: [upstream.url], clock, timeoutMs: 1_000 });
    let opened: Readable | undefined;
    try {
      const small = await client.stream({ method: 'GET', path: '/small', signal: signal() });
      // Answered, not yet read: the deadline still runs.
      assert.equal(clock.pendingSleeps, 1);
      assert.equal(await readAll(small.body), 'small');
      assert.equal(clock.pendingSleeps, 0, 'a body read to its end left its deadline behind');

      const aborted = upstream.aborted;
      const { body } = await client.stream({ method: 'GET', path: '/endless', signal: signal() });
      opened = body;
      await once(body, 'readable');
      await clock.advance(1_000);
      assert.ok(await eventually(() => body.destroyed), 'the body outlived the call\'s deadline');
      assert.ok(body.errored instanceof KitError, `the body ended with ${String(body.errored)}`);
      assert.equal(body.errored.code, Code.DeadlineExceeded);
      assert.equal(body.errored.reason, 'timeout');
      assert.ok(await eventually(() => upstream.aborted === aborted + 1), 'the upstream still sends');
      // The socket that carried it is closed; the one /small used stays in the pool.
      assert.ok(await eventually(() => isIdle(client.stats().instances[0])), JSON.stringify(client.stats().instances[0]));
    } finally {
      await closeAfterFailure(client, opened);
    }
  });

  void test('the caller\'s signal covers the body: it destroys it with the caller\'s reason', async () => {
    const client = createHttpClient({ name: 'media', urls: [upstream.url] });
    let opened: Readable | undefined;
    try {
      const caller = new AbortController();
      const { body } = await client.stream({ method: 'GET', path: '/endless', signal: caller.signal });
      opened = body;
      await once(body, 'readable');
      caller.abort(new KitError(Code.Canceled, 'the shopper went away'));
      assert.ok(await eventually(() => body.destroyed), 'the body outlived the caller\'s signal');
      assert.ok(body.errored instanceof KitError);
      assert.equal(body.errored.message, 'the shopper went away');
      assert.ok(await eventually(() => client.stats().instances[0]?.connections === 0));
    } finally {
      await closeAfterFailure(client, opened);
    }
  });

  void test('the attempt\'s span lasts until its body is done, and says when the body did not end', async () => {
    const exporter = new InMemorySpanExporter();
    const tracing = createTracing({ service: 'gateway', spanProcessors: [new SimpleSpanProcessor({ exporter })] });
    const client = createHttpClient({ name: 'media', urls: [upstream.url], tracer: tracing.tracer });
    const attemptSpans = () => exporter.getFinishedSpans().filter((span) => span.kind === SpanKind.CLIENT);
    let opened: Readable | undefined;
    try {
      const small = await client.stream({ method: 'GET', path: '/small', signal: signal() });
      assert.equal(attemptSpans().length, 0, 'the span ended before the body was read');
      await readAll(small.body);
      assert.ok(await eventually(() => attemptSpans().length === 1));
      assert.equal(attemptSpans()[0]?.status.code, SpanStatusCode.UNSET);

      const { body } = await client.stream({ method: 'GET', path: '/endless', signal: signal() });
      opened = body;
      await once(body, 'readable');
      body.destroy();
      assert.ok(await eventually(() => attemptSpans().length === 2));
      const cut = attemptSpans()[1];
      assert.equal(cut?.status.code, SpanStatusCode.ERROR);
      assert.equal(cut?.attributes[ATTR_BATON_ERROR_CODE], Code.Canceled);
    } finally {
      await closeAfterFailure(client, opened);
      await tracing.shutdown();
    }
  });
});
