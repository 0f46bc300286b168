import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { protoRoot } from '@baton/contracts/proto';
import { createSuiteScope, serviceTokenInterceptor } from '@baton/kit/testing';
import { startUsers, uniqueEmail, type TestUsers } from './support/users.ts';

// A stock gRPC client, one we did not write, loading the .proto files themselves: what any
// other gRPC service in any language would see of the users service.
const definition = protoLoader.loadSync(['baton/users/v1/users.proto', 'grpc/health/v1/health.proto'], { includeDirs: [protoRoot], keepCase: false, defaults: true });
type Callback<T> = (error: grpc.ServiceError | null, response?: T) => void;
interface UsersStub extends grpc.Client {
  GetUser(request: { id: string }, options: grpc.CallOptions, callback: Callback<{ user: { id: string; email: string; name: string } }>): void;
}
const loaded = grpc.loadPackageDefinition(definition) as unknown as {
  baton: { users: { v1: { UsersService: new (address: string, credentials: grpc.ChannelCredentials, options?: grpc.ClientOptions) => UsersStub } } };
};

function call<T>(fn: (callback: Callback<T>) => void): Promise<T> {
  return new Promise((resolve, reject) => fn((error, response) => (error ? reject(error) : resolve(response as T))));
}

void describe('users over gRPC, with a stock @grpc/grpc-js client', () => {
  const suite = createSuiteScope();
  let users: TestUsers;
  let stub: UsersStub;

  before(async () => {
    users = await startUsers(suite);
    const address = new URL(users.service.grpcUrl ?? assert.fail('no gRPC listener')).host;
    stub = new loaded.baton.users.v1.UsersService(address, grpc.credentials.createInsecure(), { interceptors: [serviceTokenInterceptor('orders', 'users')] });
  });
  after(() => stub.close());

  test('GetUser answers the account registered over HTTP: one domain, two edges', async () => {
    const email = uniqueEmail('grpc');
    const registered = await users.client.register({ email, password: 'correct horse battery', name: 'Ada' });
    assert.equal(registered.status, 201);
    const answer = await call<{ user: { id: string; email: string; name: string } }>((cb) => stub.GetUser({ id: registered.body.id }, { deadline: Date.now() + 5_000 }, cb));
    assert.deepEqual(answer.user, { id: registered.body.id, email, name: 'Ada' });
  });

  test('an unknown id is NOT_FOUND and a malformed one INVALID_ARGUMENT, with a caller-safe message', async () => {
    const missing = await call((cb) => stub.GetUser({ id: randomUUID() }, { deadline: Date.now() + 5_000 }, cb)).catch((e: grpc.ServiceError) => e);
    assert.ok(missing instanceof Error);
    assert.equal((missing as grpc.ServiceError).code, grpc.status.NOT_FOUND);
    assert.equal((missing as grpc.ServiceError).details, 'no such user');
    const malformed = await call((cb) => stub.GetUser({ id: 'not-a-uuid' }, { deadline: Date.now() + 5_000 }, cb)).catch((e: grpc.ServiceError) => e);
    assert.equal((malformed as grpc.ServiceError).code, grpc.status.INVALID_ARGUMENT);
  });
});
