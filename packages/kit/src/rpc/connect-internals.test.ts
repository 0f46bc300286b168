import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Code, ConnectError, createHandlerContext, createServiceImplSpec, type Interceptor } from '@connectrpc/connect';
import { ErrorDetailSchema } from '@baton/contracts/kit/v1';
import { UsersService } from '@baton/contracts/users/v1';
import { create } from '@bufbuild/protobuf';
import {
  codeFromHttpStatus, findTrailerError, invokeUnaryImplementation, parseContentType, parseTimeout, setTrailerStatus, validateTrailer,
} from './connect-internals.ts';

// Each test pins down what the kit's unary paths rely on in one private function of Connect-ES.
// When one fails after an upgrade, read that function's new code before changing the pin.

void test('@connectrpc/connect is pinned to one exact version, and that version is installed', () => {
  const kit = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { dependencies: Record<string, string> };
  const pinned = kit.dependencies['@connectrpc/connect'];
  assert.match(pinned ?? '', /^\d+\.\d+\.\d+$/, 'no range: the private functions below are checked against this version only');
  // The package exports no package.json; its own is found above its entry point.
  let dir = new URL('.', import.meta.resolve('@connectrpc/connect'));
  let installed: { name?: string; version?: string } = {};
  while (installed.name !== '@connectrpc/connect' && dir.pathname !== '/') {
    try { installed = JSON.parse(readFileSync(new URL('package.json', dir), 'utf8')) as typeof installed; } catch { /* not here */ }
    dir = new URL('..', dir);
  }
  assert.equal(installed.version, pinned);
});

void test('parseContentType: binary gRPC, gRPC+JSON, anything else undefined', () => {
  assert.deepEqual(parseContentType('application/grpc'), { binary: true });
  assert.deepEqual(parseContentType('application/grpc+proto'), { binary: true });
  assert.deepEqual(parseContentType('application/grpc+json'), { binary: false });
  assert.equal(parseContentType('application/json'), undefined);
  assert.equal(parseContentType('application/grpc-web+proto'), undefined);
  assert.equal(parseContentType(null), undefined);
});

void test('parseTimeout: grpc-timeout units in milliseconds; nothing for none; an InvalidArgument error for garbage or past the maximum', () => {
  assert.deepEqual(parseTimeout(null, 1_000), {});
  assert.deepEqual(parseTimeout('1995m', Number.MAX_SAFE_INTEGER), { timeoutMs: 1995 });
  assert.deepEqual(parseTimeout('2S', Number.MAX_SAFE_INTEGER), { timeoutMs: 2_000 });
  assert.deepEqual(parseTimeout('1M', Number.MAX_SAFE_INTEGER), { timeoutMs: 60_000 });
  assert.deepEqual(parseTimeout('1H', Number.MAX_SAFE_INTEGER), { timeoutMs: 3_600_000 });
  assert.deepEqual(parseTimeout('1500u', Number.MAX_SAFE_INTEGER), { timeoutMs: 1.5 });
  const garbage = parseTimeout('soon', Number.MAX_SAFE_INTEGER);
  assert.equal(garbage.timeoutMs, undefined);
  assert.ok(garbage.error instanceof ConnectError);
  assert.equal(garbage.error.code, Code.InvalidArgument);
  assert.equal(garbage.error.rawMessage, 'protocol error: invalid grpc timeout value: soon');
  assert.equal(parseTimeout('123456789m', Number.MAX_SAFE_INTEGER).error?.code, Code.InvalidArgument, 'at most 8 digits');
  assert.equal(parseTimeout('20S', 10_000).error?.code, Code.InvalidArgument);
});

void test('codeFromHttpStatus: the gRPC mapping of an HTTP status other than 200', () => {
  assert.equal(codeFromHttpStatus(400), Code.Internal);
  assert.equal(codeFromHttpStatus(401), Code.Unauthenticated);
  assert.equal(codeFromHttpStatus(403), Code.PermissionDenied);
  assert.equal(codeFromHttpStatus(404), Code.Unimplemented);
  for (const status of [429, 502, 503, 504]) assert.equal(codeFromHttpStatus(status), Code.Unavailable);
  assert.equal(codeFromHttpStatus(500), Code.Unknown);
});

void test('setTrailerStatus writes a status, a percent-encoded message, metadata and binary details that findTrailerError reads back', () => {
  const ok = setTrailerStatus(new Headers(), undefined);
  assert.equal(ok.get('grpc-status'), '0');
  assert.equal(findTrailerError(ok), undefined, 'status 0 is no error');

  const error = new ConnectError('no user 42, ünïcode', Code.NotFound, { 'x-kit-reason': 'user_not_found' });
  error.details.push({ desc: ErrorDetailSchema, value: create(ErrorDetailSchema, { reason: 'user_not_found' }) });
  const target = new Headers();
  assert.equal(setTrailerStatus(target, error), target, 'writes into the headers it is given');
  assert.equal(target.get('grpc-status'), String(Code.NotFound));
  assert.equal(target.get('grpc-message'), encodeURIComponent('no user 42, ünïcode'));
  assert.equal(target.get('x-kit-reason'), 'user_not_found', "the error's metadata travels too");
  assert.ok(target.has('grpc-status-details-bin'));

  const read = findTrailerError(target);
  assert.ok(read instanceof ConnectError);
  assert.equal(read.code, Code.NotFound);
  assert.equal(read.rawMessage, 'no user 42, ünïcode');
  assert.deepEqual(read.findDetails(ErrorDetailSchema).map((d) => d.reason), ['user_not_found']);

  // Without details, the plain grpc-status and grpc-message are read.
  const plain = findTrailerError(new Headers({ 'grpc-status': String(Code.Unavailable), 'grpc-message': 'shutting%20down' }));
  assert.equal(plain?.code, Code.Unavailable);
  assert.equal(plain?.rawMessage, 'shutting down');
  assert.equal(findTrailerError(new Headers()), undefined, 'no status at all is no error here (validateTrailer decides)');
});

void test('validateTrailer: passes a status 0, throws the trailer error, and throws Internal when neither trailer nor header has a status', () => {
  validateTrailer(new Headers({ 'grpc-status': '0' }), new Headers());
  assert.throws(() => validateTrailer(new Headers({ 'grpc-status': String(Code.NotFound), 'grpc-message': 'gone' }), new Headers({ 'x-h': '1' })),
    (error) => error instanceof ConnectError && error.code === Code.NotFound && error.metadata.get('x-h') === '1');
  assert.throws(() => validateTrailer(new Headers(), new Headers()), (error) => error instanceof ConnectError && error.code === Code.Internal);
});

void test('invokeUnaryImplementation runs the interceptors, outermost first, around the implementation, and answers its output message', async () => {
  const user = { id: 'u-1', email: 'ada@example.com', name: 'Ada' };
  const spec = createServiceImplSpec<typeof UsersService>(UsersService, {
    getUser: (request, context) => {
      context.responseHeader.set('x-seen', request.id);
      return { user };
    },
  }).methods['getUser'];
  assert.ok(spec !== undefined && spec.kind === 'unary');
  const context = createHandlerContext({
    ...spec, service: UsersService, requestMethod: 'POST', protocolName: 'grpc', url: 'http://localhost/baton.users.v1.UsersService/GetUser',
    requestHeader: { 'x-req': 'r' }, responseHeader: {}, responseTrailer: {},
  });
  const seen: string[] = [];
  const note = (name: string): Interceptor => (next) => async (req) => {
    seen.push(`${name}:${req.header.get('x-req') ?? ''}:${req.stream ? 'stream' : (req.message as unknown as { id: string }).id}`);
    const res = await next(req);
    seen.push(`${name}:answer`);
    return res;
  };
  const input = create(UsersService.method.getUser.input, { id: 'u-1' });
  const output = await invokeUnaryImplementation(spec, context, input, [note('outer'), note('inner')]);
  assert.deepEqual(seen, ['outer:r:u-1', 'inner:r:u-1', 'inner:answer', 'outer:answer']);
  assert.equal(output.$typeName, 'baton.users.v1.GetUserResponse', 'a message, not the init object the implementation returned');
  const answered = (output as unknown as { user?: typeof user }).user;
  assert.deepEqual({ id: answered?.id, email: answered?.email, name: answered?.name }, user);
  assert.equal(context.responseHeader.get('x-seen'), 'u-1');

  const failing = createServiceImplSpec<typeof UsersService>(UsersService, { getUser: () => { throw new ConnectError('nope', Code.PermissionDenied); } }).methods['getUser'];
  assert.ok(failing !== undefined && failing.kind === 'unary');
  await assert.rejects(invokeUnaryImplementation(failing, context, input, []), (error) => error instanceof ConnectError && error.code === Code.PermissionDenied);
});
