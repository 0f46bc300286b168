import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { serviceEnvironment } from './environment.ts';
import { createStackKeys } from './service-keys.ts';
import { repoRoot } from './stack.ts';
import { hasDatabase, portOf, serviceNames, startOrder, stopOrder } from './services.ts';

const adminToken = 'this-services-own-admin-token-0123';

test('ports follow the list from the base, gateway first; media and the provider keep their own slots (8086, 8087)', () => {
  assert.deepEqual(serviceNames.map((name) => portOf(name, 8080)), [8080, 8081, 8082, 8083, 8084, 8085, 8086, 8087]);
  assert.deepEqual(serviceNames, ['gateway', 'users', 'inventory', 'orders', 'notifications', 'payment', 'media', 'provider']);
});

test('callers stop before the services they call', () => {
  const groups = stopOrder(serviceNames);
  const position = (name: string) => groups.findIndex((group) => group.some((n) => n === name));
  assert.deepEqual(groups[0], ['gateway']);
  assert.ok(position('orders') < position('users'));
  assert.ok(position('orders') < position('inventory'));
  assert.ok(position('orders') < position('payment'));
  assert.deepEqual(groups.flat().toSorted(), [...serviceNames].toSorted(), 'every service stops exactly once');
});

test('each service starts after the services it contacts as it starts: by default all it calls', () => {
  assert.deepEqual(startOrder(serviceNames), [['users', 'payment', 'provider'], ['gateway', 'inventory', 'media'], ['orders'], ['notifications']], 'the gateway waits only for users, whose revocations it reads as it starts; media calls inventory only when an image comes');
  assert.deepEqual(startOrder(['gateway', 'orders']), [['gateway', 'orders']], 'services outside the selection are not waited for');
  assert.deepEqual(startOrder(['orders', 'inventory']), [['inventory'], ['orders']]);
});

test('a service gets its port, its own database and the address of each service it calls', () => {
  const env = { LOG_LEVEL: 'debug', DATABASE_URL: 'postgres://shared/db', PORT: '1', HOST: 'my-laptop' };
  const orders = serviceEnvironment('orders', { env, portBase: 9000, adminToken, varDir: '/tmp/baton-var', databaseUrl: 'postgres://baton_orders:secret@127.0.0.1:9352/baton_orders' });
  assert.equal(orders.PORT, '9003');
  assert.equal(orders.HOST, '127.0.0.1');
  assert.equal(orders.DATABASE_URL, 'postgres://baton_orders:secret@127.0.0.1:9352/baton_orders', 'its own database, never the inherited one');
  assert.equal(orders.USERS_URLS, 'http://127.0.0.1:9001');
  assert.equal(orders.INVENTORY_URLS, 'http://127.0.0.1:9002');
  assert.equal(orders.LOG_LEVEL, 'debug', 'the runner passes its environment on');
  assert.equal('DATABASE_URL' in serviceEnvironment('users', { env, portBase: 9000, adminToken, varDir: '/v' }), false, 'one database URL for every service would make them share it');
  assert.equal(orders.ORDERS_URLS, undefined);
  assert.equal(orders.USERS_GRPC_URLS, 'http://127.0.0.1:10001', 'gRPC ports sit 1000 above the HTTP ones');
  assert.equal(orders.INVENTORY_GRPC_URLS, 'http://127.0.0.1:10002');
  assert.equal(orders.GRPC_PORT, undefined, 'orders serves no gRPC');
  assert.equal(serviceEnvironment('users', { env, portBase: 9000, adminToken, varDir: '/v' }).GRPC_PORT, '10001');
  assert.equal(serviceEnvironment('inventory', { env, portBase: 8080, adminToken, varDir: '/v' }).GRPC_PORT, '9082', 'the defaults: 9081 and 9082');
  assert.equal(serviceEnvironment('notifications', { env, portBase: 8080, adminToken, varDir: '/v' }).MAIL_DIR, '/v/mail', 'emails go to var/mail/');
  assert.equal(orders.MAIL_DIR, undefined);
  assert.equal(orders.PAYMENT_GRPC_URLS, 'http://127.0.0.1:10005', 'orders gets payment\'s gRPC address too, for UPSTREAM_PROTOCOL=grpc');

  const payment = serviceEnvironment('payment', { env, portBase: 8080, adminToken, varDir: '/v' });
  assert.equal(payment.PROVIDER_URL, 'http://127.0.0.1:8087', 'the provider\'s one address, as Stripe\'s would be');
  assert.deepEqual([payment.PROVIDER_SECRET_KEY_FILE, payment.PROVIDER_WEBHOOK_SECRET_FILE], ['/v/secrets/provider-secret-key', '/v/secrets/provider-webhook-secret']);
  const provider = serviceEnvironment('provider', { env, portBase: 8080, adminToken, varDir: '/v', keys: createStackKeys() });
  assert.equal(provider.WEBHOOK_URL, 'http://127.0.0.1:8085/webhooks/provider');
  assert.deepEqual([provider.SECRET_KEY_FILE, provider.WEBHOOK_SECRET_FILE], [payment.PROVIDER_SECRET_KEY_FILE, payment.PROVIDER_WEBHOOK_SECRET_FILE], 'the same secrets on both sides');
  assert.equal(provider.SERVICE_KEY, undefined, 'outside the shop: no identity of the shop\'s');

  const gateway = serviceEnvironment('gateway', { env, portBase: 9000, adminToken, varDir: '/v', overrides: { PORT: 'notaport' } });
  assert.deepEqual(
    [gateway.USERS_URLS, gateway.INVENTORY_URLS, gateway.ORDERS_URLS, gateway.NOTIFICATIONS_URLS],
    ['http://127.0.0.1:9001', 'http://127.0.0.1:9002', 'http://127.0.0.1:9003', 'http://127.0.0.1:9004'],
  );
  assert.equal(gateway.PORT, 'notaport', 'overrides come last');
});

test('a service gets an admin listener on loopback, 2000 above its port, and its own admin token; no inherited admin token reaches any service', () => {
  const env = { ADMIN_TOKEN: 'one-token-for-all-sekrit', ADMIN_TOKEN_FILE: '/run/secrets/shared', USERS_ADMIN_TOKEN: 'users-only-sekrit-0123456789', ADMIN_HOST: '0.0.0.0' };
  const users = serviceEnvironment('users', { env, portBase: 8080, adminToken, varDir: '/v' });
  assert.deepEqual([users.ADMIN_HOST, users.ADMIN_PORT, users.ADMIN_TOKEN, users.ADMIN_TOKEN_FILE], ['127.0.0.1', '10081', adminToken, undefined]);
  const gateway = serviceEnvironment('gateway', { env, portBase: 8080, adminToken: 'the-gateways-own-token-0123', varDir: '/v' });
  assert.deepEqual([gateway.ADMIN_PORT, gateway.ADMIN_TOKEN], ['10080', 'the-gateways-own-token-0123']);
  assert.doesNotMatch(JSON.stringify([users, gateway]), /sekrit/, 'neither the shared token nor another service\'s reaches a service');
  const fromFile = serviceEnvironment('users', { env, portBase: 8080, adminToken, varDir: '/v', overrides: { ADMIN_TOKEN_FILE: '/run/secrets/users-admin' } });
  assert.deepEqual([fromFile.ADMIN_TOKEN, fromFile.ADMIN_TOKEN_FILE], [undefined, '/run/secrets/users-admin'], 'a token file of its own wins: never both');
});

test('every service but the gateway keeps data, and so gets a database of its own; the gateway is given none', () => {
  assert.deepEqual(serviceNames.filter(hasDatabase), ['users', 'inventory', 'orders', 'notifications', 'payment', 'media', 'provider']);
  assert.equal(hasDatabase('gateway'), false);
  const gateway = serviceEnvironment('gateway', { env: { DATABASE_URL: 'postgres://shared/db' }, portBase: 8080, adminToken, varDir: '/v' });
  assert.equal('DATABASE_URL' in gateway, false, 'not even an inherited one');
});

test('a service uses Node\'s compile cache: the folder the runner\'s environment names, else one inside the checkout (never a shared temporary folder)', () => {
  const named = serviceEnvironment('users', { env: { NODE_COMPILE_CACHE: '/tmp/baton-cache' }, portBase: 8080, adminToken, varDir: '/v' });
  assert.equal(named.NODE_COMPILE_CACHE, '/tmp/baton-cache');
  const unnamed = serviceEnvironment('users', { env: {}, portBase: 8080, adminToken, varDir: '/v' });
  assert.equal(unnamed.NODE_COMPILE_CACHE, join(repoRoot, 'node_modules', '.cache', 'node-compile') + '/');
});

test('a service starts with a capped young generation, and the runner\'s own NODE_OPTIONS come after it', () => {
  assert.equal(serviceEnvironment('orders', { env: {}, portBase: 8080, adminToken, varDir: '/v' }).NODE_OPTIONS, '--max-semi-space-size=8');
  const mine = serviceEnvironment('orders', { env: { NODE_OPTIONS: '--max-semi-space-size=32 --trace-gc' }, portBase: 8080, adminToken, varDir: '/v' });
  assert.equal(mine.NODE_OPTIONS, '--max-semi-space-size=8 --max-semi-space-size=32 --trace-gc', 'a flag given again later wins');
});

test('media starts with the memory its spec asks for (a 1 MB young generation, two malloc arenas); the others with the default, and a variable of the runner\'s own wins', () => {
  const media = serviceEnvironment('media', { env: {}, portBase: 8080, adminToken, varDir: '/v' });
  assert.equal(media.NODE_OPTIONS, '--max-semi-space-size=1');
  assert.equal(media.MALLOC_ARENA_MAX, '2');
  assert.equal(serviceEnvironment('orders', { env: {}, portBase: 8080, adminToken, varDir: '/v' }).MALLOC_ARENA_MAX, undefined);
  assert.equal(serviceEnvironment('media', { env: { MALLOC_ARENA_MAX: '4' }, portBase: 8080, adminToken, varDir: '/v' }).MALLOC_ARENA_MAX, '4');
});

test('each service gets its own private key and the public keys of the services that call it, and no other', () => {
  const keys = createStackKeys();
  const inventory = serviceEnvironment('inventory', { env: { SERVICE_KEY: 'inherited' }, portBase: 9000, varDir: '/v', adminToken: 'a-token-of-its-own-1234', keys });
  const own = JSON.parse(inventory.SERVICE_KEY ?? '{}') as { kid: string; d?: string };
  assert.equal(own.kid, keys.inventory.privateJwk.kid, 'its own key, not an inherited one');
  assert.ok(own.d, 'the private half');
  const trust = JSON.parse(inventory.SERVICE_TRUST ?? '{}') as Record<string, Array<{ kid: string; d?: string }>>;
  assert.deepEqual(Object.keys(trust).toSorted(), ['gateway', 'media', 'orders'], 'its callers, from serviceSpecs[].calls');
  assert.deepEqual(trust.orders?.map((key) => key.kid), [keys.orders.publicJwk.kid]);
  assert.ok(Object.values(trust).flat().every((key) => key.d === undefined), 'public keys only');
  assert.deepEqual(JSON.parse(serviceEnvironment('gateway', { env: {}, portBase: 9000, varDir: '/v', adminToken: 'a-token-of-its-own-1234', keys }).SERVICE_TRUST ?? ''), {}, 'nobody calls the gateway');
  assert.notEqual(createStackKeys().inventory.privateJwk.x, keys.inventory.privateJwk.x, 'new keys at every start');
});

test('users is pointed at the development key-encryption key in var/secrets/, unless the environment or its overrides bring one', () => {
  const users = (env: NodeJS.ProcessEnv, overrides: NodeJS.ProcessEnv = {}) => serviceEnvironment('users', { env, portBase: 8080, adminToken, varDir: '/v', overrides });
  assert.equal(users({}).TOKEN_KEY_ENCRYPTION_KEY_FILE, '/v/secrets/token-key-encryption-key');
  assert.equal(serviceEnvironment('orders', { env: {}, portBase: 8080, adminToken, varDir: '/v' }).TOKEN_KEY_ENCRYPTION_KEY_FILE, undefined, 'only users seals keys');
  assert.equal(users({ TOKEN_KEY_ENCRYPTION_KEY_FILE: '/run/secrets/kek' }).TOKEN_KEY_ENCRYPTION_KEY_FILE, '/run/secrets/kek');
  const inline = users({}, { TOKEN_KEY_ENCRYPTION_KEY: 'its own' });
  assert.deepEqual([inline.TOKEN_KEY_ENCRYPTION_KEY, inline.TOKEN_KEY_ENCRYPTION_KEY_FILE], ['its own', undefined], 'never both');
});
