import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { create, toBinary } from '@bufbuild/protobuf';
import * as grpc from '@grpc/grpc-js';
import { Code, ConnectError, type Interceptor, type Transport, createClient } from '@connectrpc/connect';
import { Http2SessionManager, createGrpcTransport } from '@connectrpc/connect-node';
import { GetUserResponseSchema, UsersService } from '@baton/contracts/users/v1';
import { type GetUserCall, startGrpcJsUsersServer } from '../../testing/index.ts';
import { createUnaryGrpcTransport } from './unary-transport.ts';

const user = { id: 'u-1', email: 'ada@example.com', name: 'Ada' };

function transportTo(url: string, { interceptors = [], readMaxBytes, connectTimeoutMs }: { interceptors?: Interceptor[]; readMaxBytes?: number; connectTimeoutMs?: number } = {}) {
  const session = new Http2SessionManager(url, connectTimeoutMs === undefined ? {} : { connectTimeoutMs });
  const transport = createUnaryGrpcTransport({ baseUrl: url, sessionOf: () => session, interceptors, ...(readMaxBytes === undefined ? {} : { readMaxBytes }) });
  return { transport, close: () => session.abort() };
}

async function rejection(promise: Promise<unknown>): Promise<ConnectError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof ConnectError, `a ConnectError, not ${String(error)}`);
    return error;
  }
  throw new Error('the call succeeded; an error was expected');
}

const whenCancelled = (call: GetUserCall) => new Promise<void>((resolve) => call.once('cancelled', () => resolve()));

void describe('the kit unary gRPC transport', () => {
  void test('calls a stock grpc-js server: the answer, and metadata both ways through the interceptors', async (t) => {
    let seen: Record<string, unknown> = {};
    const server = await startGrpcJsUsersServer((call, callback) => {
      seen = call.metadata.getMap();
      const header = new grpc.Metadata();
      header.set('x-answer-header', 'h');
      call.sendMetadata(header);
      const trailer = new grpc.Metadata();
      trailer.set('x-answer-trailer', 't');
      callback(null, { user: { ...user, id: call.request.id } }, trailer);
    });
    t.after(() => server.close());
    const received: Array<string | null> = [];
    const interceptor: Interceptor = (next) => async (req) => {
      req.header.set('x-caller', 'orders');
      const res = await next(req);
      received.push(res.header.get('x-answer-header'), res.trailer.get('x-answer-trailer'));
      return res;
    };
    const { transport, close } = transportTo(server.url, { interceptors: [interceptor] });
    t.after(close);
    const users = createClient(UsersService, transport);
    const answer = await users.getUser({ id: 'u-7' }, { timeoutMs: 2_000 });
    assert.deepEqual({ ...answer.user }, { $typeName: 'baton.users.v1.User', ...user, id: 'u-7' });
    assert.equal(seen['x-caller'], 'orders');
    assert.match(String(seen['user-agent']), /grpc-node-baton/);
    assert.deepEqual(received, ['h', 't']);
  });

  void test('a grpc-js error status arrives as a ConnectError with its code, message and trailing metadata', async (t) => {
    const server = await startGrpcJsUsersServer((_call, callback) => {
      const metadata = new grpc.Metadata();
      metadata.set('x-baton-no-retry', '1');
      callback({ code: grpc.status.NOT_FOUND, details: 'no such user', metadata });
    });
    t.after(() => server.close());
    const { transport, close } = transportTo(server.url);
    t.after(close);
    const error = await rejection(createClient(UsersService, transport).getUser({ id: 'u' }));
    assert.equal(error.code, Code.NotFound);
    assert.equal(error.rawMessage, 'no such user');
    assert.equal(error.metadata.get('x-baton-no-retry'), '1');
  });

  void test('a timeout travels as grpc-timeout and ends the call with DEADLINE_EXCEEDED; the grpc-js server sees its call cancelled', async (t) => {
    let deadlineAtMs = Number.NaN;
    let cancelled: Promise<void> | undefined;
    const server = await startGrpcJsUsersServer((call) => {
      // What grpc-js made of the grpc-timeout header: Infinity when it got none.
      deadlineAtMs = Number(call.getDeadline());
      cancelled = whenCancelled(call);
    });
    t.after(() => server.close());
    const { transport, close } = transportTo(server.url);
    t.after(close);
    const error = await rejection(createClient(UsersService, transport).getUser({ id: 'u' }, { timeoutMs: 100 }));
    assert.equal(error.code, Code.DeadlineExceeded);
    assert.ok(deadlineAtMs <= Date.now() + 100, `the server knew the deadline: ${deadlineAtMs}`);
    await cancelled;
  });

  void test('an abort ends the call at once with the abort\'s reason, and the grpc-js server sees its call cancelled', async (t) => {
    let cancelled: Promise<void> | undefined;
    const started = Promise.withResolvers<void>();
    const server = await startGrpcJsUsersServer((call) => {
      cancelled = whenCancelled(call);
      started.resolve();
    });
    t.after(() => server.close());
    const { transport, close } = transportTo(server.url);
    t.after(close);
    const controller = new AbortController();
    const call = createClient(UsersService, transport).getUser({ id: 'u' }, { signal: controller.signal });
    await started.promise;
    controller.abort(new ConnectError('the caller gave up', Code.Canceled));
    const error = await rejection(call);
    assert.equal(error.code, Code.Canceled);
    assert.equal(error.rawMessage, 'the caller gave up');
    await cancelled;
  });

  void test('an abort while the connection is still being made ends the call then, not at the connect timeout', async (t) => {
    // A peer that accepts TCP and never speaks HTTP/2: the connection stays "connecting".
    const silent = net.createServer(() => undefined);
    const sockets = new Set<net.Socket>();
    silent.on('connection', (socket) => sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    t.after(() => new Promise<void>((resolve) => { for (const s of sockets) s.destroy(); silent.close(() => resolve()); }));
    const { transport, close } = transportTo(`http://127.0.0.1:${(silent.address() as net.AddressInfo).port}`, { connectTimeoutMs: 120_000 });
    t.after(close);
    const controller = new AbortController();
    const call = createClient(UsersService, transport).getUser({ id: 'u' }, { signal: controller.signal });
    await sleep(20);
    controller.abort();
    assert.equal((await rejection(call)).code, Code.Canceled);
  });

  void test('an instance nobody listens on is UNAVAILABLE, with the system error as the cause', async (t) => {
    const port = await new Promise<number>((resolve) => {
      const probe = net.createServer().listen(0, '127.0.0.1', () => {
        const { port: free } = probe.address() as net.AddressInfo;
        probe.close(() => resolve(free));
      });
    });
    const { transport, close } = transportTo(`http://127.0.0.1:${port}`);
    t.after(close);
    const error = await rejection(createClient(UsersService, transport).getUser({ id: 'u' }));
    assert.equal(error.code, Code.Unavailable);
    assert.equal((error.cause as { code?: string }).code, 'ECONNREFUSED');
  });

  void test('protocol faults get the same codes and messages as from Connect-ES\'s own gRPC transport', async (t) => {
    const frame = (bytes: Uint8Array, flags = 0) => {
      const out = Buffer.alloc(5 + bytes.length);
      out[0] = flags;
      out.writeUInt32BE(bytes.length, 1);
      out.set(bytes, 5);
      return out;
    };
    const message = frame(toBinary(GetUserResponseSchema, create(GetUserResponseSchema, { user })));
    const grpcHeaders = { ':status': 200, 'content-type': 'application/grpc+proto' };
    const faults: Record<string, (stream: http2.ServerHttp2Stream) => void> = {
      'HTTP 503': (s) => { s.respond({ ':status': 503 }); s.end(); },
      'not a gRPC content type': (s) => { s.respond({ ':status': 200, 'content-type': 'text/html' }); s.end('<html></html>'); },
      'no grpc-status at all': (s) => { s.respond(grpcHeaders); s.end(message); },
      'two messages for a unary method': (s) => withTrailers(s, Buffer.concat([message, message]), { 'grpc-status': '0' }),
      'a compressed message without an encoding': (s) => withTrailers(s, frame(Buffer.from([1, 2, 3]), 1), { 'grpc-status': '0' }),
      'an encoding nobody asked for': (s) => withTrailers(s, message, { 'grpc-status': '0' }, { 'grpc-encoding': 'gzip' }),
      'trailers only, an error': (s) => s.respond({ ...grpcHeaders, 'grpc-status': '7', 'grpc-message': 'nope' }, { endStream: true }),
      'a message and an error status': (s) => withTrailers(s, message, { 'grpc-status': '13', 'grpc-message': 'broke' }),
      'OK without a message': (s) => withTrailers(s, Buffer.alloc(0), { 'grpc-status': '0' }),
      'a truncated envelope': (s) => withTrailers(s, message.subarray(0, message.length - 3), { 'grpc-status': '0' }),
      'bytes that are not the message': (s) => withTrailers(s, frame(Buffer.from([0xff, 0xff, 0xff, 0xff])), { 'grpc-status': '0' }),
    };
    function withTrailers(s: http2.ServerHttp2Stream, body: Buffer, trailers: Record<string, string>, headers: Record<string, string> = {}) {
      s.respond({ ...grpcHeaders, ...headers }, { waitForTrailers: true });
      s.once('wantTrailers', () => s.sendTrailers(trailers));
      s.end(body);
    }
    const server = http2.createServer();
    server.on('stream', (stream, headers) => {
      stream.on('error', () => undefined);
      stream.resume();
      if (headers['x-fault'] === 'refused') stream.close(http2.constants.NGHTTP2_REFUSED_STREAM);
      else stream.once('end', () => faults[String(headers['x-fault'])]?.(stream));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
    t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const ours = transportTo(url);
    t.after(ours.close);
    const connect: Transport = createGrpcTransport({ baseUrl: url, acceptCompression: [] });
    for (const fault of Object.keys(faults)) {
      const call = (transport: Transport) => rejection(createClient(UsersService, transport).getUser({ id: 'u' }, { headers: { 'x-fault': fault } }));
      const [theirs, mine] = [await call(connect), await call(ours.transport)];
      assert.deepEqual([Code[mine.code], mine.rawMessage], [Code[theirs.code], theirs.rawMessage], fault);
    }
    // One deliberate difference: a stream the server refused never reached a handler, and gRPC
    // maps REFUSED_STREAM to UNAVAILABLE, which the kit may retry; Connect-ES says INTERNAL.
    const refused = await rejection(createClient(UsersService, ours.transport).getUser({ id: 'u' }, { headers: { 'x-fault': 'refused' } }));
    assert.equal(refused.code, Code.Unavailable);
  });

  void test('an answer larger than readMaxBytes is RESOURCE_EXHAUSTED', async (t) => {
    const server = await startGrpcJsUsersServer((_call, callback) => callback(null, { user: { ...user, name: 'x'.repeat(10_000) } }));
    t.after(() => server.close());
    const { transport, close } = transportTo(server.url, { readMaxBytes: 1_000 });
    t.after(close);
    assert.equal((await rejection(createClient(UsersService, transport).getUser({ id: 'u' }))).code, Code.ResourceExhausted);
  });
});
