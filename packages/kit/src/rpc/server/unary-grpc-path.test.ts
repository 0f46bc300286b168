import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import type net from 'node:net';
import { create, toBinary } from '@bufbuild/protobuf';
import * as grpc from '@grpc/grpc-js';
import { Code, ConnectError, type ConnectRouter, type HandlerContext, type Interceptor, createClient } from '@connectrpc/connect';
import { compressionGzip, connectNodeAdapter, createConnectTransport, createGrpcTransport, createGrpcWebTransport } from '@connectrpc/connect-node';
import { Health, HealthCheckResponse_ServingStatus as ServingStatus } from '@baton/contracts/grpc/health/v1';
import { ErrorDetailSchema } from '@baton/contracts/kit/v1';
import { GetUserRequestSchema, UsersService } from '@baton/contracts/users/v1';
import { grpcJsUsersClient } from '../../testing/index.ts';
import { takeStreamsFirst } from './streams-first.ts';
import { createUnaryGrpcPath } from './unary-grpc-path.ts';

const user = { id: 'u-1', email: 'ada@example.com', name: 'Ada' };
const maxBytes = 1_000;

// What the handler does, by the id it is asked for.
async function getUser({ id }: { id: string }, context: HandlerContext) {
  if (id === 'not-found') {
    throw new ConnectError('no such user', Code.NotFound, { 'x-why': 'gone' }, [{ desc: ErrorDetailSchema, value: { reason: 'no_user' } }]);
  }
  if (id === 'crash') throw new Error('a secret the caller must not see');
  if (id === 'headers') {
    context.responseHeader.set('x-answer-header', 'h');
    context.responseTrailer.set('x-answer-trailer', 't');
  }
  if (id === 'wait') {
    await new Promise((resolve) => context.signal.addEventListener('abort', resolve, { once: true }));
    throw context.signal.reason;
  }
  if (id === 'huge') return { user: { ...user, name: 'x'.repeat(2 * maxBytes) } };
  return { user: { ...user, id } };
}

interface Served { url: string; taken: boolean[]; intercepted: string[] }

/**
 * A server as the kit's is built: the unary path first, Connect-ES's node adapter for the rest,
 * with the same interceptors; with `unaryPath: false`, Connect-ES's adapter alone, the reference.
 */
async function startServer(t: { after(fn: () => unknown): void }, { unaryPath = true, routes = (router: ConnectRouter) => router.service(UsersService, { getUser }) } = {}): Promise<Served> {
  const intercepted: string[] = [];
  const interceptors: Interceptor[] = [(next) => (req) => {
    intercepted.push(req.method.name);
    return next(req);
  }];
  const unary = createUnaryGrpcPath({ interceptors, readMaxBytes: maxBytes, writeMaxBytes: maxBytes });
  const connect = connectNodeAdapter({
    interceptors, readMaxBytes: maxBytes, writeMaxBytes: maxBytes,
    routes: (router) => {
      routes(unaryPath ? unary.recording(router) : router);
      router.service(Health, { check: () => ({ status: ServingStatus.SERVING }), async *watch() { yield { status: ServingStatus.SERVING }; } });
    },
  });
  const taken: boolean[] = [];
  const server = http2.createServer(connect);
  takeStreamsFirst(server, (stream, headers) => {
    const took = unaryPath && unary.serve(stream, headers);
    taken.push(took);
    return took;
  });
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('session', (session) => { sessions.add(session); session.once('close', () => sessions.delete(session)); });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => { for (const s of sessions) s.destroy(); server.close(() => resolve()); }));
  return { url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`, taken, intercepted };
}

interface RawAnswer { status: unknown; header: Record<string, unknown>; body: string; trailer: Record<string, unknown> }

/** One gRPC request with exactly these headers and body bytes, and everything that came back. */
async function rawCall(url: string, { body, headers = {}, path = '/baton.users.v1.UsersService/GetUser' }: { body: Buffer; headers?: Record<string, string>; path?: string }): Promise<RawAnswer> {
  const session = http2.connect(url);
  try {
    return await new Promise<RawAnswer>((resolve, reject) => {
      const stream = session.request({ ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers', ...headers });
      const answer: RawAnswer = { status: undefined, header: {}, body: '', trailer: {} };
      const chunks: Buffer[] = [];
      stream.on('response', (h) => {
        answer.status = h[':status'];
        const { date: _date, ':status': _status, ...rest } = h;
        answer.header = { ...rest };
      });
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('trailers', (trailer) => { answer.trailer = { ...trailer }; });
      stream.on('error', reject);
      stream.on('close', () => resolve({ ...answer, body: Buffer.concat(chunks).toString('hex') }));
      stream.end(body);
    });
  } finally {
    session.close();
  }
}

const frame = (bytes: Uint8Array) => {
  const out = Buffer.alloc(5 + bytes.length);
  out.writeUInt32BE(bytes.length, 1);
  out.set(bytes, 5);
  return out;
};
const request = (id: string) => frame(toBinary(GetUserRequestSchema, create(GetUserRequestSchema, { id })));

void describe('the kit gRPC server\'s unary path', () => {
  void test('takes binary unary gRPC; the Connect protocol, gRPC-Web, JSON, compressed requests and streams go to Connect-ES, and all are answered', async (t) => {
    const server = await startServer(t);
    const grpcJs = grpcJsUsersClient(server.url);
    t.after(() => grpcJs.close());
    assert.equal((await grpcJs.getUser('u-2')).user.id, 'u-2');
    assert.deepEqual(server.taken.splice(0), [true]);

    const connectTransports = {
      'the Connect protocol': createConnectTransport({ baseUrl: server.url, httpVersion: '2' }),
      'gRPC-Web': createGrpcWebTransport({ baseUrl: server.url, httpVersion: '2' }),
      'gRPC with JSON': createGrpcTransport({ baseUrl: server.url, useBinaryFormat: false }),
      'gRPC, compressed': createGrpcTransport({ baseUrl: server.url, sendCompression: compressionGzip, compressMinBytes: 1 }),
    };
    for (const [name, transport] of Object.entries(connectTransports)) {
      const { user: answered } = await createClient(UsersService, transport).getUser({ id: 'u-3' });
      assert.equal(answered?.id, 'u-3', name);
      assert.deepEqual(server.taken.splice(0), [false], name);
    }
    const watch = createClient(Health, createGrpcTransport({ baseUrl: server.url })).watch({ service: '' });
    for await (const answer of watch) {
      assert.equal(answer.status, ServingStatus.SERVING);
      break;
    }
    assert.deepEqual(server.taken.splice(0), [false], 'a server stream');
    assert.deepEqual(server.intercepted, ['GetUser', 'GetUser', 'GetUser', 'GetUser', 'GetUser', 'Watch'], 'the interceptors ran on both paths');
  });

  void test('answers exactly as Connect-ES\'s own gRPC handler does: answers, errors, headers, trailers and protocol faults', async (t) => {
    const kit = await startServer(t);
    const reference = await startServer(t, { unaryPath: false });
    const garbage = Buffer.from([0, 0, 0, 0, 4, 0xff, 0xff, 0xff, 0xff]);
    const calls: Record<string, { body: Buffer; headers?: Record<string, string>; path?: string }> = {
      'an answer': { body: request('u-4') },
      'an error with details and metadata': { body: request('not-found') },
      'a handler that crashed': { body: request('crash') },
      'headers and trailers from the handler': { body: request('headers') },
      'an answer too large to send': { body: request('huge') },
      'a malformed grpc-timeout': { body: request('u-5'), headers: { 'grpc-timeout': 'soon' } },
      'no message': { body: Buffer.alloc(0) },
      'two messages': { body: Buffer.concat([request('a'), request('b')]) },
      'bytes that are not the message': { body: garbage },
      'a truncated envelope': { body: request('u-6').subarray(0, 6) },
      'a message over the limit': { body: request('x'.repeat(2 * maxBytes)) },
    };
    for (const [name, call] of Object.entries(calls)) {
      const [ours, theirs] = [await rawCall(kit.url, call), await rawCall(reference.url, call)];
      assert.deepEqual(ours, theirs, name);
    }
    assert.ok(kit.taken.length === Object.keys(calls).length && kit.taken.every(Boolean), 'every one took the kit\'s path');
  });

  void test('a method the service does not implement is UNIMPLEMENTED, as from Connect-ES', async (t) => {
    const routes = (router: ConnectRouter) => router.service(UsersService, {});
    const kit = await startServer(t, { routes });
    const reference = await startServer(t, { unaryPath: false, routes });
    const [ours, theirs] = [await rawCall(kit.url, { body: request('u') }), await rawCall(reference.url, { body: request('u') })];
    assert.deepEqual(ours, theirs);
    assert.equal(ours.trailer['grpc-status'], String(grpc.status.UNIMPLEMENTED));
  });

  void test('a caller that cancels reaches the handler\'s signal, with CANCELED as its reason', async (t) => {
    const reasons: unknown[] = [];
    const started = Promise.withResolvers<void>();
    const ended = Promise.withResolvers<void>();
    const server = await startServer(t, {
      routes: (router) => router.service(UsersService, {
        async getUser(_request, context) {
          started.resolve();
          await new Promise((resolve) => context.signal.addEventListener('abort', resolve, { once: true }));
          reasons.push(context.signal.reason);
          ended.resolve();
          throw context.signal.reason;
        },
      }),
    });
    const grpcJs = grpcJsUsersClient(server.url);
    t.after(() => grpcJs.close());
    let call: grpc.ClientUnaryCall | undefined;
    const answer = grpcJs.getUser('u', { onCall: (c) => { call = c; } });
    await started.promise;
    call?.cancel();
    await assert.rejects(answer, { code: grpc.status.CANCELLED });
    await ended.promise;
    assert.ok(reasons[0] instanceof ConnectError && reasons[0].code === Code.Canceled, String(reasons[0]));
  });

  void test('grpc-timeout is the handler\'s deadline: its remaining time, and its signal fires with DEADLINE_EXCEEDED', async (t) => {
    let remainingMs: number | undefined;
    const server = await startServer(t, {
      routes: (router) => router.service(UsersService, {
        async getUser(_request, context) {
          remainingMs = context.timeoutMs();
          await new Promise((resolve) => context.signal.addEventListener('abort', resolve, { once: true }));
          throw context.signal.reason;
        },
      }),
    });
    const grpcJs = grpcJsUsersClient(server.url);
    t.after(() => grpcJs.close());
    await assert.rejects(grpcJs.getUser('u', { deadlineMs: 200 }), { code: grpc.status.DEADLINE_EXCEEDED });
    assert.ok(remainingMs !== undefined && remainingMs > 0 && remainingMs <= 200, `timeoutMs() ${remainingMs}`);
  });
});
