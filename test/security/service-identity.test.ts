import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { protoRoot } from '@baton/contracts/proto';
import { createSuiteScope, createTestIdentity, testIdentity } from '@baton/kit/testing';
import { serviceGrpcUrl } from '@baton/runner';
import { startShop, type ShopStack } from '../e2e/shop-stack.ts';

// Workload identity, tried as an attacker on the same network would: straight at a service's
// port, past the gateway. Every internal route and method wants a service token of a caller it
// names; without one, with another service's, expired, or signed by a key no one trusts, the
// call is refused before any work. A call made right (the control in each group) goes through,
// so each refusal is the credential's doing and nothing else's.

type Callback<T> = (error: grpc.ServiceError | null, response?: T) => void;
interface InventoryStub extends grpc.Client {
  CreateReservation(request: { orderId: string; items: Array<{ sku: string; quantity: number }> }, metadata: grpc.Metadata, options: grpc.CallOptions, callback: Callback<{ created: boolean }>): void;
}
interface UsersStub extends grpc.Client {
  GetUser(request: { id: string }, metadata: grpc.Metadata, options: grpc.CallOptions, callback: Callback<unknown>): void;
}
const definition = protoLoader.loadSync(['baton/inventory/v1/inventory.proto', 'baton/users/v1/users.proto'], { includeDirs: [protoRoot], defaults: true, enums: String });
const loaded = grpc.loadPackageDefinition(definition) as unknown as {
  baton: {
    inventory: { v1: { InventoryService: new (address: string, credentials: grpc.ChannelCredentials) => InventoryStub } };
    users: { v1: { UsersService: new (address: string, credentials: grpc.ChannelCredentials) => UsersStub } };
  };
};

const hourAgoSeconds = () => Math.floor(Date.now() / 1000) - 3_600;
// Keys the shop never heard of: a stranger signing as a real service, with a real-looking kid.
const stranger = createTestIdentity();

/** The ways a credential can be wrong, and the header each gives (none for the first). */
async function badCredentials(callee: string, allowed: string, other: string): Promise<Record<'none' | 'otherService' | 'expired' | 'untrusted', string | undefined>> {
  return {
    none: undefined,
    otherService: await testIdentity.mint(other, callee),
    expired: await testIdentity.mint(allowed, callee, { issuedAtSeconds: hourAgoSeconds() }),
    untrusted: await testIdentity.mint(allowed, callee, { key: stranger.keyPair(allowed) }),
  };
}

function metadataWith(token: string | undefined): grpc.Metadata {
  const metadata = new grpc.Metadata();
  if (token !== undefined) metadata.set('baton-service-token', token);
  return metadata;
}

function call<T>(fn: (callback: Callback<T>) => void): Promise<{ ok: true; value: T } | { ok: false; error: grpc.ServiceError }> {
  return new Promise((resolve) => fn((error, value) => resolve(error ? { ok: false, error } : { ok: true, value: value as T })));
}

void describe('service identity: every internal call wants the credential of a caller the route names', () => {
  const scope = createSuiteScope();
  let shop: ShopStack;
  let inventoryStub: InventoryStub;
  let usersStub: UsersStub;
  let reservations: Awaited<ReturnType<typeof badCredentials>>;
  let feed: Awaited<ReturnType<typeof badCredentials>>;

  before(async () => {
    shop = await startShop(scope);
    const grpcAddress = (name: 'inventory' | 'users') => new URL(serviceGrpcUrl(name, shop.stack.portBase) ?? assert.fail(`${name} has no gRPC listener`)).host;
    inventoryStub = new loaded.baton.inventory.v1.InventoryService(grpcAddress('inventory'), grpc.credentials.createInsecure());
    usersStub = new loaded.baton.users.v1.UsersService(grpcAddress('users'), grpc.credentials.createInsecure());
    // Reservations: orders may hold stock, the gateway may not. Feeds: notifications reads them, orders may not.
    reservations = await badCredentials('inventory', 'orders', 'gateway');
    feed = await badCredentials('users', 'notifications', 'orders');
  });
  after(() => {
    inventoryStub?.close();
    usersStub?.close();
  });

  /** The stock of a product, as the shop shows it: a refused reservation must hold none. */
  async function available(sku: string): Promise<number> {
    const answer = await fetch(new URL(`/api/v1/products/${sku}`, shop.gateway));
    return (await answer.json() as { available: number }).available;
  }

  function reserve(token: string | undefined) {
    return fetch(new URL('/v1/reservations', shop.stack.url('inventory')), {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token === undefined ? {} : { 'baton-service-token': token }) },
      // The longest hold allowed (a day's, what the attacker of issue 17 asked for, is now a 400
      // past RESERVATION_MAX_TTL_SECONDS: services/inventory/test/reservation-ttl.test.ts).
      body: JSON.stringify({ orderId: randomUUID(), items: [{ sku: 'TEA-GREEN-100G', quantity: 1 }], ttlSeconds: 3_600 }),
    });
  }

  async function assertRefusedOverHttp(answer: Response, status: 401 | 403, code: string): Promise<void> {
    assert.equal(answer.status, status);
    assert.match(answer.headers.get('content-type') ?? '', /application\/problem\+json/);
    const problem = await answer.json() as { code: string; detail: string };
    assert.equal(problem.code, code);
    assert.doesNotMatch(problem.detail, /eyJ|kid|key/i, 'the answer says nothing of keys or tokens');
  }

  async function reservationRefused(token: string | undefined, status: 401 | 403, code: string): Promise<void> {
    const before = await available('TEA-GREEN-100G');
    await assertRefusedOverHttp(await reserve(token), status, code);
    assert.equal(await available('TEA-GREEN-100G'), before, 'no stock was held');
  }

  test('control: orders, with its own valid token, reserves stock over HTTP', async () => {
    const answer = await reserve(await testIdentity.mint('orders', 'inventory'));
    assert.equal(answer.status, 201, await answer.text());
  });

  test('HTTP: POST /v1/reservations without a credential is 401, and holds no stock', async () => {
    await reservationRefused(reservations.none, 401, 'unauthenticated');
  });

  test('HTTP: the gateway\'s valid credential on a reservation route is 403: only orders may reserve', async () => {
    await reservationRefused(reservations.otherService, 403, 'permission_denied');
  });

  test('HTTP: an expired credential of orders is 401', async () => {
    await reservationRefused(reservations.expired, 401, 'unauthenticated');
  });

  test('HTTP: a credential naming orders but signed by a key inventory does not trust is 401', async () => {
    await reservationRefused(reservations.untrusted, 401, 'unauthenticated');
  });

  test('HTTP: a credential of orders that claims to live longer than the maximum is 401', async () => {
    await reservationRefused(await testIdentity.mint('orders', 'inventory', { lifetimeSeconds: 24 * 3_600 }), 401, 'unauthenticated');
  });

  test('HTTP: a credential of orders for another audience (users) is 401 at inventory', async () => {
    await reservationRefused(await testIdentity.mint('orders', 'users'), 401, 'unauthenticated');
  });

  test('HTTP: a user\'s access token in the service-token header is 401', async () => {
    const email = `identity-${randomUUID()}@example.com`;
    await fetch(new URL('/api/v1/users', shop.gateway), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password: 'correct horse battery', name: 'Mallory' }) });
    const login = await fetch(new URL('/api/v1/auth/login', shop.gateway), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password: 'correct horse battery' }) });
    const { accessToken } = await login.json() as { accessToken: string };
    await reservationRefused(accessToken, 401, 'unauthenticated');
  });

  const grpcCases = [
    ['without a credential is UNAUTHENTICATED', 'none', grpc.status.UNAUTHENTICATED],
    ['with the gateway\'s valid credential is PERMISSION_DENIED', 'otherService', grpc.status.PERMISSION_DENIED],
    ['with an expired credential of orders is UNAUTHENTICATED', 'expired', grpc.status.UNAUTHENTICATED],
    ['with a credential signed by a key not trusted is UNAUTHENTICATED', 'untrusted', grpc.status.UNAUTHENTICATED],
  ] as const;

  test('control: orders, with its own valid token, reserves stock over gRPC (stock grpc-js client)', async () => {
    const token = await testIdentity.mint('orders', 'inventory');
    const answer = await call<{ created: boolean }>((cb) => inventoryStub.CreateReservation({ orderId: randomUUID(), items: [{ sku: 'TEA-GREEN-100G', quantity: 1 }] }, metadataWith(token), { deadline: Date.now() + 5_000 }, cb));
    assert.ok(answer.ok, answer.ok ? '' : answer.error.message);
    assert.equal(answer.value.created, true);
  });

  for (const [name, credential, status] of grpcCases) {
    test(`gRPC: CreateReservation ${name}, and holds no stock`, async () => {
      const before = await available('TEA-GREEN-100G');
      const answer = await call((cb) => inventoryStub.CreateReservation({ orderId: randomUUID(), items: [{ sku: 'TEA-GREEN-100G', quantity: 1 }] }, metadataWith(reservations[credential]), { deadline: Date.now() + 5_000 }, cb));
      assert.equal(answer.ok, false);
      if (!answer.ok) {
        assert.equal(answer.error.code, status, answer.error.message);
        assert.doesNotMatch(answer.error.details, /eyJ|kid|key/i);
      }
      assert.equal(await available('TEA-GREEN-100G'), before, 'no stock was held');
    });
  }

  test('gRPC: GetUser (every user\'s email) with the gateway\'s valid credential is PERMISSION_DENIED: only orders may', async () => {
    const asGateway = metadataWith(await testIdentity.mint('gateway', 'users'));
    const answer = await call((cb) => usersStub.GetUser({ id: randomUUID() }, asGateway, { deadline: Date.now() + 5_000 }, cb));
    assert.equal(answer.ok, false);
    if (!answer.ok) assert.equal(answer.error.code, grpc.status.PERMISSION_DENIED);
    const asOrders = metadataWith(await testIdentity.mint('orders', 'users'));
    const orders = await call((cb) => usersStub.GetUser({ id: randomUUID() }, asOrders, { deadline: Date.now() + 5_000 }, cb));
    assert.equal(orders.ok ? 'ok' : orders.error.code, grpc.status.NOT_FOUND, 'orders gets past the check to the handler');
  });

  function readFeed(token: string | undefined) {
    return fetch(new URL('/events/v1/feed?after=0&limit=10', shop.stack.url('users')), { headers: token === undefined ? {} : { 'baton-service-token': token } });
  }

  test('control: notifications, with its own valid token, reads the users feed', async () => {
    const answer = await readFeed(await testIdentity.mint('notifications', 'users'));
    assert.equal(answer.status, 200, await answer.text());
  });

  test('feed: the users event feed without a credential is 401', async () => {
    await assertRefusedOverHttp(await readFeed(feed.none), 401, 'unauthenticated');
  });

  test('feed: the users event feed with orders\' valid credential is 403: only notifications reads it', async () => {
    await assertRefusedOverHttp(await readFeed(feed.otherService), 403, 'permission_denied');
  });

  test('feed: the users event feed with an expired credential of notifications is 401', async () => {
    await assertRefusedOverHttp(await readFeed(feed.expired), 401, 'unauthenticated');
  });

  test('feed: the users event feed with a credential signed by a key not trusted is 401', async () => {
    await assertRefusedOverHttp(await readFeed(feed.untrusted), 401, 'unauthenticated');
  });

  test('health, readiness and the token key set stay public', async () => {
    for (const [service, path] of [['inventory', '/healthz'], ['orders', '/readyz'], ['users', '/.well-known/jwks.json']] as const) {
      const answer = await fetch(new URL(path, shop.stack.url(service)));
      await answer.arrayBuffer();
      assert.equal(answer.status, 200, `${service} ${path}`);
    }
  });
});
