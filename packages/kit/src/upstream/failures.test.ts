import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import http2 from 'node:http2';
import { Health } from '@baton/contracts/grpc/health/v1';
import { InventoryService } from '@baton/contracts/inventory/v1';
import { Code, KitError } from '../errors/index.ts';
import { createHttpClient } from '../http/http-client.ts';
import { createGrpcClient } from '../rpc/client/grpc-client.ts';
import { toConnectError } from '../rpc/status.ts';
import { refusedUrl, startFixtureServer } from '../testing/index.ts';
import type { HttpClientEvent } from './events.ts';
import { type FailureKind, failureKindOf, failureKindOfSystemError, failureTable } from './failures.ts';

// The failure table, a row at a time, on both transports: each row's failure is made for real
// (a port nobody listens on, a server that cuts the connection, resets the stream, says GOAWAY,
// or answers with a status), and the test checks what the caller gets (the row's code and
// reason) and whether a call that is not repeatable was tried again (only when the row says the
// upstream never got it). Rows HTTP/1.1 cannot produce (it has no streams and no GOAWAY) are run
// on gRPC alone; a row no server here can produce on demand (undici's own timers, a connect
// that hangs) is checked on the error the transport would raise.

const { constants } = http2;
const behaviourHeader = 'x-behaviour';

interface Outcome {
  error: KitError;
  /** Attempts made for one call that is not repeatable (a POST without a key, a method not marked idempotent). */
  attempts: number;
}

type Behaviour = 'credentials' | 'passed_on' | 'reset' | 'stream_reset' | 'stream_refused' | 'goaway' | 'shutting_down' | 'unavailable' | 'timeout' | 'overloaded' | 'internal' | 'not_found' | 'bad_json';

const httpAnswers: Partial<Record<Behaviour, (res: http.ServerResponse) => void>> = {
  reset: (res) => { res.socket?.destroy(); },
  shutting_down: (res) => problem(res, 503, { code: 'unavailable', reason: 'shutting_down', detail: 'restarting', not_started: true }),
  // The same reason passed on by an upstream from its own dependency, after it may have done work.
  passed_on: (res) => problem(res, 503, { code: 'unavailable', reason: 'shutting_down', detail: 'restarting' }),
  unavailable: (res) => problem(res, 503, { code: 'unavailable', detail: 'down' }),
  timeout: (res) => problem(res, 504, { code: 'deadline_exceeded', detail: 'slow' }),
  overloaded: (res) => problem(res, 429, { code: 'resource_exhausted', detail: 'busy' }),
  internal: (res) => problem(res, 500, { code: 'internal', detail: 'bug' }),
  not_found: (res) => problem(res, 404, { code: 'not_found', detail: 'none' }),
  // What a Baton server answers a caller whose service token it cannot accept.
  credentials: (res) => problem(res, 401, { code: 'unauthenticated', reason: 'service_token_invalid', detail: 'the service credential is not valid' }),
  bad_json: (res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{not json');
  },
};

function problem(res: http.ServerResponse, status: number, body: Record<string, unknown>): void {
  res.writeHead(status, { 'content-type': 'application/problem+json' });
  res.end(JSON.stringify({ status, title: 'x', ...body }));
}

const grpcAnswers: Partial<Record<Behaviour, KitError>> = {
  shutting_down: new KitError(Code.Unavailable, 'restarting', { reason: 'shutting_down', details: { not_started: true } }),
  passed_on: new KitError(Code.Unavailable, 'restarting', { reason: 'shutting_down' }),
  unavailable: new KitError(Code.Unavailable, 'down'),
  timeout: new KitError(Code.DeadlineExceeded, 'slow'),
  overloaded: new KitError(Code.ResourceExhausted, 'busy'),
  internal: new KitError(Code.Internal, 'bug'),
  not_found: new KitError(Code.NotFound, 'none'),
  credentials: new KitError(Code.Unauthenticated, 'the service credential is not valid', { reason: 'service_token_invalid' }),
};

// What the raw HTTP/2 server does to a stream: the wire failures a Connect server never makes on purpose.
const grpcWire: Partial<Record<Behaviour, (stream: http2.ServerHttp2Stream) => void>> = {
  reset: (stream) => stream.session?.socket.destroy(),
  stream_reset: (stream) => stream.close(constants.NGHTTP2_INTERNAL_ERROR),
  stream_refused: (stream) => stream.close(constants.NGHTTP2_REFUSED_STREAM),
  // A server going away: the stream it will not take refused, then GOAWAY. (GOAWAY first leaves
  // the stream to each side's HTTP/2 library, which may end it or leave it to the deadline.)
  goaway: (stream) => {
    stream.close(constants.NGHTTP2_REFUSED_STREAM);
    stream.session?.goaway(constants.NGHTTP2_NO_ERROR, 0);
  },
};

let httpUrl = '';
let grpcWireUrl = '';
let grpcAnswerUrl = '';
let refused = '';
const closers: Array<() => Promise<void>> = [];

before(async () => {
  const httpServer = http.createServer((req, res) => httpAnswers[req.headers[behaviourHeader] as Behaviour]?.(res));
  await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
  httpUrl = `http://127.0.0.1:${(httpServer.address() as { port: number }).port}`;
  closers.push(() => new Promise((resolve) => { httpServer.closeAllConnections(); httpServer.close(() => resolve()); }));

  const wire = http2.createServer();
  const sessions = new Set<http2.ServerHttp2Session>();
  wire.on('session', (session) => { sessions.add(session); session.once('close', () => sessions.delete(session)); });
  wire.on('stream', (stream, headers) => {
    stream.on('error', () => {});
    grpcWire[headers[behaviourHeader] as Behaviour]?.(stream);
  });
  await new Promise<void>((resolve) => wire.listen(0, '127.0.0.1', resolve));
  grpcWireUrl = `http://127.0.0.1:${(wire.address() as { port: number }).port}`;
  closers.push(() => new Promise((resolve) => { for (const s of sessions) s.destroy(); wire.close(() => resolve()); }));

  const answers = await startFixtureServer((router) => {
    const fail = (headers: Headers) => { throw toConnectError(grpcAnswers[headers.get(behaviourHeader) as Behaviour] ?? new KitError(Code.Unknown, '?')); };
    router.service(InventoryService, { getProduct: (_req, { requestHeader }) => fail(requestHeader) });
    router.service(Health, { check: (_req, { requestHeader }) => fail(requestHeader) });
  });
  grpcAnswerUrl = answers.url;
  closers.push(() => answers.close());
  refused = await refusedUrl();
});
after(() => Promise.all(closers.map((close) => close())));

const clientOptions = { retry: { baseDelayMs: 1 }, breaker: { consecutiveFailures: 1_000, minimumRequests: 1_000 }, timeoutMs: 400 };

/** One call that is not repeatable, made through a client of its own: how it failed, and in how many attempts. */
async function outcomeOf(open: (onEvent: (e: HttpClientEvent) => void) => { call(): Promise<unknown>; close(): Promise<void> }): Promise<Outcome> {
  let attempts = 0;
  const client = open((e) => { if (e.type === 'attempt_start') attempts++; });
  try {
    await client.call();
    assert.fail('the call succeeded');
  } catch (error) {
    assert.ok(error instanceof KitError);
    return { error, attempts };
  } finally {
    await client.close();
  }
}

const headersFor = (behaviour: Behaviour | undefined): Record<string, string> => (behaviour === undefined ? {} : { [behaviourHeader]: behaviour });

function overHttp(url: string, behaviour: Behaviour | undefined): Promise<Outcome> {
  return outcomeOf((onEvent) => {
    const client = createHttpClient({ name: 'up', urls: [url], ...clientOptions, onEvent });
    return { call: () => client.request({ method: 'POST', path: '/x', body: {}, headers: headersFor(behaviour), signal: new AbortController().signal }), close: () => client.close() };
  });
}

function overGrpc(url: string, behaviour: Behaviour | undefined): Promise<Outcome> {
  return outcomeOf((onEvent) => {
    const client = createGrpcClient({ name: 'up', urls: [url], ...clientOptions, onEvent });
    // Health.Check carries no idempotency level: the kit's client treats it as not repeatable.
    return { call: () => client.client(Health).check({}, { headers: headersFor(behaviour) }), close: () => client.close() };
  });
}

function expectRow(kind: FailureKind, { error, attempts }: Outcome, reason = failureTable[kind].reason): void {
  const row = failureTable[kind];
  assert.equal(failureKindOf(error), kind);
  assert.equal(error.code, row.code ?? error.code);
  if (reason !== undefined) assert.equal(error.reason, reason);
  if (row.retry === 'any') assert.ok(attempts > 1, `nobody got it, so it was tried again (${attempts} attempts)`);
  else assert.equal(attempts, 1, 'it may have been acted on: not tried again');
}

// Each row: how to make it on each transport (undefined: that transport cannot).
const rows: Array<{ kind: FailureKind; http?: () => Promise<Outcome>; grpc?: () => Promise<Outcome>; reason?: string }> = [
  { kind: 'connection_refused', http: () => overHttp(refused, undefined), grpc: () => overGrpc(refused, undefined) },
  { kind: 'name_not_resolved', http: () => overHttp('http://baton.invalid:9', undefined), grpc: () => overGrpc('http://baton.invalid:9', undefined) },
  { kind: 'connection_reset', http: () => overHttp(httpUrl, 'reset'), grpc: () => overGrpc(grpcWireUrl, 'reset') },
  { kind: 'stream_reset', grpc: () => overGrpc(grpcWireUrl, 'stream_reset') },
  { kind: 'stream_refused', grpc: () => overGrpc(grpcWireUrl, 'stream_refused') },
  { kind: 'stream_refused', grpc: () => overGrpc(grpcWireUrl, 'goaway') },
  { kind: 'shutting_down', http: () => overHttp(httpUrl, 'shutting_down'), grpc: () => overGrpc(grpcAnswerUrl, 'shutting_down') },
  { kind: 'answered_unavailable', http: () => overHttp(httpUrl, 'unavailable'), grpc: () => overGrpc(grpcAnswerUrl, 'unavailable') },
  // `shutting_down` without the closing server's promise: an upstream passing on its own
  // dependency's answer, maybe after doing work. Not trusted: an answer like any 503.
  { kind: 'answered_unavailable', http: () => overHttp(httpUrl, 'passed_on'), grpc: () => overGrpc(grpcAnswerUrl, 'passed_on'), reason: 'shutting_down' },
  { kind: 'answered_timeout', http: () => overHttp(httpUrl, 'timeout'), grpc: () => overGrpc(grpcAnswerUrl, 'timeout') },
  { kind: 'answered_overloaded', http: () => overHttp(httpUrl, 'overloaded'), grpc: () => overGrpc(grpcAnswerUrl, 'overloaded') },
  { kind: 'answered_internal', http: () => overHttp(httpUrl, 'internal'), grpc: () => overGrpc(grpcAnswerUrl, 'internal') },
  { kind: 'answered_other', http: () => overHttp(httpUrl, 'not_found'), grpc: () => overGrpc(grpcAnswerUrl, 'not_found') },
  { kind: 'credentials_refused', http: () => overHttp(httpUrl, 'credentials'), grpc: () => overGrpc(grpcAnswerUrl, 'credentials') },
  { kind: 'bad_response', http: () => overHttp(httpUrl, 'bad_json') },
  // A header value undici refuses to send. (Over gRPC the same mistake fails in Connect's client,
  // before any transport: an internal error that never reaches an instance.)
  {
    kind: 'programming_error',
    http: () => outcomeOf((onEvent) => {
      const client = createHttpClient({ name: 'up', urls: [httpUrl], ...clientOptions, onEvent });
      return { call: () => client.request({ method: 'POST', path: '/x', headers: { 'x-bad': 'a\nb' }, signal: new AbortController().signal }), close: () => client.close() };
    }),
  },
];

void describe('the failure table, a row at a time, on HTTP and gRPC', () => {
  for (const row of rows) {
    if (row.http !== undefined) {
      const make = row.http;
      void test(`${row.kind} over HTTP`, async () => expectRow(row.kind, await make(), row.reason));
    }
    if (row.grpc !== undefined) {
      const make = row.grpc;
      void test(`${row.kind} over gRPC`, async () => expectRow(row.kind, await make(), row.reason));
    }
  }

  void test('answered_other keeps the upstream\'s own code (not_found here), and is a healthy instance\'s answer', async () => {
    for (const outcome of [await overHttp(httpUrl, 'not_found'), await overGrpc(grpcAnswerUrl, 'not_found')]) {
      assert.equal(outcome.error.code, Code.NotFound);
    }
  });

  void test('circuit_open: an open breaker refuses without touching the network, on both transports', async () => {
    for (const transport of ['http', 'grpc'] as const) {
      let attempts = 0;
      const options = { name: 'up', urls: [transport === 'http' ? httpUrl : grpcAnswerUrl], breaker: { consecutiveFailures: 1, openDurationMs: 60_000 }, retry: { maxAttempts: 1 }, onEvent: (e: HttpClientEvent) => { if (e.type === 'attempt_start') attempts++; } };
      const headers = { [behaviourHeader]: 'internal' };
      const signal = new AbortController().signal;
      const call = transport === 'http'
        ? (() => { const c = createHttpClient(options); return { run: () => c.request({ method: 'POST', path: '/x', headers, signal }), close: () => c.close() }; })()
        : (() => { const c = createGrpcClient(options); return { run: () => c.client(Health).check({}, { headers }), close: () => c.close() }; })();
      try {
        await assert.rejects(call.run(), { code: Code.Internal });
        await assert.rejects(call.run(), (error: unknown) => error instanceof KitError && failureKindOf(error) === 'circuit_open' && error.code === failureTable.circuit_open.code);
        assert.equal(attempts, 1, `${transport}: the refusal never reached the network`);
      } finally {
        await call.close();
      }
    }
  });

  void test('a caller whose own deadline ends the wait for a refused instance hears the refusal (503), not its deadline, on both transports', async () => {
    const http = createHttpClient({ name: 'up', urls: [refused], retry: { baseDelayMs: 1 } });
    const grpc = createGrpcClient({ name: 'up', urls: [refused], retry: { baseDelayMs: 1 } });
    try {
      // The caller's budget (300 ms) is shorter than the client's (5 s): the caller's deadline ends the wait.
      await assert.rejects(http.request({ method: 'POST', path: '/x', body: {}, timeoutMs: 300, signal: new AbortController().signal }), { code: Code.Unavailable, reason: 'connection_refused' });
      await assert.rejects(grpc.client(Health).check({}, { timeoutMs: 300 }), { code: Code.Unavailable, reason: 'connection_refused' });
    } finally {
      await Promise.all([http.close(), grpc.close()]);
    }
  });

  void test('caller_deadline: a caller\'s own deadline that cuts an attempt short says nothing of the instance, on both transports: its breaker stays closed', async () => {
    // Servers that never answer (no behaviour asked of them); callers with 100 ms to spend, the
    // clients' own timeout far above it, and a breaker that opens at the first failure.
    const options = { name: 'up', breaker: { consecutiveFailures: 1, openDurationMs: 60_000 }, retry: { maxAttempts: 1 }, timeoutMs: 10_000 };
    const http = createHttpClient({ ...options, urls: [httpUrl] });
    const grpc = createGrpcClient({ ...options, urls: [grpcWireUrl], healthCheck: false });
    try {
      for (let i = 0; i < 2; i++) {
        await assert.rejects(http.request({ method: 'GET', path: '/x', signal: AbortSignal.timeout(100) }), { code: Code.DeadlineExceeded });
        await assert.rejects(grpc.client(Health).check({}, { signal: AbortSignal.timeout(100) }), { code: Code.DeadlineExceeded });
      }
      assert.equal(http.stats().instances[0]?.breaker, 'closed', 'HTTP: the instance was not held to the caller\'s deadline');
      assert.equal(grpc.stats().instances[0]?.breaker, 'closed', 'gRPC: the instance was not held to the caller\'s deadline');
      // The clients' own timeout is the bound they keep for the instance: past it, the breaker opens.
      await assert.rejects(http.request({ method: 'GET', path: '/x', timeoutMs: 100, signal: new AbortController().signal }), { code: Code.DeadlineExceeded, reason: 'timeout' });
      await assert.rejects(grpc.client(Health).check({}, { timeoutMs: 100 }), { code: Code.DeadlineExceeded });
      assert.equal(http.stats().instances[0]?.breaker, 'open');
      assert.equal(grpc.stats().instances[0]?.breaker, 'open');
    } finally {
      await Promise.all([http.close(), grpc.close()]);
    }
  });

  void test('rows no server here makes on demand, from the errors the transports raise', () => {
    // undici's connect timeout. (The kernel's ETIMEDOUT can also end an established connection,
    // after the request was sent: it is read as a reset.)
    assert.equal(failureKindOfSystemError(Object.assign(new Error('connect timeout'), { code: 'UND_ERR_CONNECT_TIMEOUT' })), 'connect_timeout');
    assert.equal(failureKindOfSystemError(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })), 'connection_reset');
    // undici's own headers and body timers (the kit's deadline usually ends a call first).
    assert.equal(failureKindOfSystemError(Object.assign(new Error('headers'), { code: 'UND_ERR_HEADERS_TIMEOUT' })), 'response_timeout');
    assert.equal(failureKindOfSystemError(Object.assign(new Error('body'), { code: 'UND_ERR_BODY_TIMEOUT' })), 'response_timeout');
    // A stream opened on a connection that had said GOAWAY (Node refuses it before sending).
    assert.equal(failureKindOfSystemError(Object.assign(new Error('goaway'), { code: 'ERR_HTTP2_GOAWAY_SESSION' })), 'goaway');
    // A request undici could never send: a bug on this side, not the network.
    assert.equal(failureKindOfSystemError(Object.assign(new Error('bad'), { code: 'UND_ERR_INVALID_ARG' })), 'programming_error');
    // Found through the causes, as Connect wraps a Node error.
    assert.equal(failureKindOfSystemError(new Error('wrapped', { cause: Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }) })), 'connection_refused');
    // Anything unnamed is read as a reset: the work may have been done.
    assert.equal(failureKindOfSystemError(new Error('who knows')), 'connection_reset');
    for (const kind of ['connect_timeout', 'response_timeout', 'programming_error'] as const) assert.ok(failureTable[kind].code !== Code.Unknown);
  });
});
