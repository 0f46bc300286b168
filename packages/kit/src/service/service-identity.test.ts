import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { UsersService } from '@baton/contracts/users/v1';
import { generateServiceKeyPair, type ServicePrivateJwk, type ServicePublicJwk } from '../auth/service-identity/keys.ts';
import { createServiceTokenMinter } from '../auth/service-identity/minter.ts';
import { parseServiceKey } from '../auth/service-identity/keys.ts';
import { loadConfig, serviceConfigFields, serviceIdentityFields, z } from '../config/index.ts';
import { createHttpClient } from '../http/index.ts';
import { createGrpcClient } from '../rpc/index.ts';
import { Code, KitError } from '../errors/index.ts';
import { addCleanup, createSilentLogger } from '../testing/index.ts';
import type { StatelessServiceDefinition } from './definition.ts';
import { startService } from './start-service.ts';

// Service identity in the kit's own service skeleton, in this process: a route or method that
// does not say who may call it fails the start, and keys rotate without a refused call.

const schema = z.object({ ...serviceConfigFields({ name: 'callee', port: 0 }), ...serviceIdentityFields() });

function configFor(own: { privateJwk: ServicePrivateJwk }, trust: Record<string, ServicePublicJwk[]>) {
  return loadConfig(schema, { HOST: '127.0.0.1', PORT: '0', LOAD_SHEDDING: 'false', SERVICE_KEY: JSON.stringify(own.privateJwk), SERVICE_TRUST: JSON.stringify(trust) });
}

const callee = generateServiceKeyPair('inventory');

function pingService(routeConfig: object): StatelessServiceDefinition<z.output<typeof schema>> {
  return {
    name: 'inventory',
    setup(app) {
      app.get('/v1/ping', { config: routeConfig }, async () => ({ pong: true }));
    },
  };
}

function minterFor(pair: ReturnType<typeof generateServiceKeyPair>) {
  const key = parseServiceKey(JSON.stringify(pair.privateJwk));
  assert.ok(!('problem' in key));
  return createServiceTokenMinter({ service: 'orders', key });
}

void describe('service identity in the service skeleton', () => {
  test('a route that does not declare its callers fails the start, naming it', async () => {
    await assert.rejects(
      startService(pingService({}), configFor(callee, {}), { logger: createSilentLogger('inventory') }),
      /every route declares its callers \(config\.callers\); these do not: GET,HEAD \/v1\/ping|GET \/v1\/ping/,
    );
  });

  test('a gRPC method that does not declare its callers fails the start, naming it', async () => {
    const definition: StatelessServiceDefinition<z.output<typeof schema>> = {
      name: 'users',
      setup() {},
      grpc: {
        port: () => 0,
        routes(router) {
          router.service(UsersService, { getUser: () => { throw new KitError(Code.NotFound, 'no such user'); } });
        },
        callers: {},
      },
    };
    await assert.rejects(startService(definition, configFor(callee, {}), { logger: createSilentLogger('users') }), /baton\.users\.v1\.UsersService\/GetUser/);
  });

  test('the kit\'s gRPC client sends its token: the method\'s caller gets in, another service is PERMISSION_DENIED', async (t) => {
    const orders = generateServiceKeyPair('orders');
    const gateway = generateServiceKeyPair('gateway');
    const definition: StatelessServiceDefinition<z.output<typeof schema>> = {
      name: 'users',
      setup() {},
      grpc: {
        port: () => 0,
        routes(router) {
          router.service(UsersService, { getUser: () => { throw new KitError(Code.NotFound, 'no such user'); } });
        },
        callers: { 'baton.users.v1.UsersService/GetUser': ['orders'] },
      },
    };
    const users = await startService(definition, configFor(callee, { orders: [orders.publicJwk], gateway: [gateway.publicJwk] }), { logger: createSilentLogger('users') });
    addCleanup(t, () => users.shutdown('test over'));
    const clientAs = (pair: ReturnType<typeof generateServiceKeyPair>, service: string) => {
      const key = parseServiceKey(JSON.stringify(pair.privateJwk));
      assert.ok(!('problem' in key));
      const client = createGrpcClient({ name: 'users', urls: [users.grpcUrl ?? assert.fail('no gRPC')], identity: createServiceTokenMinter({ service, key }), retry: { maxAttempts: 1 } });
      addCleanup(t, () => client.close());
      return client.client(UsersService);
    };
    const signal = AbortSignal.timeout(5_000);
    await assert.rejects(clientAs(orders, 'orders').getUser({ id: '00000000-0000-4000-8000-000000000001' }, { signal }), (error: unknown) => KitError.from(error).code === Code.NotFound);
    await assert.rejects(clientAs(gateway, 'gateway').getUser({ id: '00000000-0000-4000-8000-000000000001' }, { signal }), (error: unknown) => KitError.from(error).code === Code.PermissionDenied);
  });

  test('keys rotate without a refused call: trust old and new, the caller switches, the old key is removed and then refused', async (t) => {
    const oldKey = generateServiceKeyPair('orders');
    const newKey = generateServiceKeyPair('orders');
    const start = async (trusted: ServicePublicJwk[]) => {
      const service = await startService(pingService({ callers: ['orders'] }), configFor(callee, { orders: trusted }), { logger: createSilentLogger('inventory') });
      addCleanup(t, () => service.shutdown('test over'));
      return service;
    };
    const callerTo = (url: string, pair: ReturnType<typeof generateServiceKeyPair>) => {
      const client = createHttpClient({ name: 'inventory', urls: [url], identity: minterFor(pair), retry: { maxAttempts: 1 } });
      addCleanup(t, () => client.close());
      return async () => {
        try {
          return (await client.request({ method: 'GET', path: '/v1/ping', signal: AbortSignal.timeout(5_000) })).status;
        } catch (error) {
          // A refused credential is the caller's 503 (`credentials_refused`), never its 401: the reason says which.
          return KitError.from(error).reason;
        }
      };
    };

    // Before: the callee trusts the old key only, and the caller signs with it.
    const before = await start([oldKey.publicJwk]);
    assert.equal(await callerTo(before.url, oldKey)(), 200);

    // Step 1: the callee's instances are replaced by ones trusting both keys (a rolling restart);
    // the caller, still on the old key, is served by either.
    const both = await start([oldKey.publicJwk, newKey.publicJwk]);
    const oldCaller = callerTo(both.url, oldKey);
    const newCaller = callerTo(both.url, newKey);
    // Step 2: the caller's instances switch to the new key one by one: old and new side by side, all served.
    const during = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? oldCaller() : newCaller())));
    assert.deepEqual(during, Array.from({ length: 20 }, () => 200));
    // A new key on a callee that does not trust it yet is refused: the order of the steps matters.
    assert.equal(await callerTo(before.url, newKey)(), 'credentials_refused');

    // Step 3: the old key is removed from the callee's trust; the new one goes on, the old is refused.
    const after = await start([newKey.publicJwk]);
    assert.equal(await callerTo(after.url, newKey)(), 200);
    assert.equal(await callerTo(after.url, oldKey)(), 'credentials_refused');
  });
});
