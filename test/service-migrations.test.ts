import { randomBytes } from 'node:crypto';
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import type { DatabaseConfig, ServiceConfig } from '@baton/kit/config';
import { startService, type RunningService, type ServiceDefinition } from '@baton/kit/service';
import { addCleanup, createSilentLogger, createTempDir, createTestDatabase, testIdentity } from '@baton/kit/testing';
import { readConfig as readInventoryConfig } from '../services/inventory/src/config.ts';
import { inventoryService } from '../services/inventory/src/service.ts';
import { readConfig as readNotificationsConfig } from '../services/notifications/src/config.ts';
import { notificationsService } from '../services/notifications/src/service.ts';
import { readConfig as readOrdersConfig } from '../services/orders/src/config.ts';
import { ordersService } from '../services/orders/src/service.ts';
import { readConfig as readPaymentConfig } from '../services/payment/src/config.ts';
import { paymentService } from '../services/payment/src/service.ts';
import { readConfig as readProviderConfig } from '../services/provider/src/config.ts';
import { providerService } from '../services/provider/src/service.ts';
import { readConfig as readUsersConfig } from '../services/users/src/config.ts';
import { usersService } from '../services/users/src/service.ts';

type Environment = Record<string, string>;

interface Case {
  name: string;
  /** A table the service's migrations create. */
  table: string;
  start(environment: Environment): Promise<RunningService>;
}

/** A service, started with its own config.ts reading the given environment. */
function serviceCase<C extends ServiceConfig & DatabaseConfig>(definition: ServiceDefinition<C>, readConfig: (environment: Environment) => C, table: string): Case {
  return {
    name: definition.name,
    table,
    start: (environment) => startService(definition, readConfig(environment), { logger: createSilentLogger(definition.name) }),
  };
}

// Every service that keeps data; the gateway keeps none and has no database to migrate
// (services/gateway/test/no-database.test.ts).
const services: Case[] = [
  serviceCase(inventoryService, readInventoryConfig, 'products'),
  serviceCase(notificationsService, readNotificationsConfig, 'notifications'),
  serviceCase(ordersService, readOrdersConfig, 'orders'),
  serviceCase(paymentService, readPaymentConfig, 'payments'),
  serviceCase(providerService, readProviderConfig, 'payment_intents'),
  serviceCase(usersService, readUsersConfig, 'users'),
];

// Upstream addresses the services must be given; nothing is called at start, so nothing listens there.
const upstreams = {
  USERS_URLS: 'http://127.0.0.1:9',
  INVENTORY_URLS: 'http://127.0.0.1:9',
  ORDERS_URLS: 'http://127.0.0.1:9',
  NOTIFICATIONS_URLS: 'http://127.0.0.1:9',
  USERS_GRPC_URLS: 'http://127.0.0.1:9',
  INVENTORY_GRPC_URLS: 'http://127.0.0.1:9',
  PAYMENT_GRPC_URLS: 'http://127.0.0.1:9',
  PAYMENT_URLS: 'http://127.0.0.1:9',
  PROVIDER_URL: 'http://127.0.0.1:9',
  // The provider's secret key and webhook secret, on both sides.
  PROVIDER_SECRET_KEY: 'sk_test_migrations_only_0123456789',
  PROVIDER_WEBHOOK_SECRET: 'whsec_migrations_only_0123456789',
  SECRET_KEY: 'sk_test_migrations_only_0123456789',
  // Users encrypts its signing keys with it; the others ignore it.
  TOKEN_KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
};

async function startAndCheck(t: TestContext, { name, table, start }: Case, databaseUrl: string) {
  // Notifications writes its mail there; the others ignore it.
  const mailDir = await createTempDir(t, `baton-${name}-mail-`);
  const service = await start({ HOST: '127.0.0.1', PORT: '0', GRPC_PORT: '0', DATABASE_URL: databaseUrl, MAIL_DIR: mailDir, ...upstreams, ...testIdentity.env(name) });
  addCleanup(t, () => service.shutdown('test over'));

  const { rows } = await service.db.query<{ table_name: string }>(
    `select table_name from information_schema.tables where table_schema = 'public' and table_name = $1`, [table]);
  assert.deepEqual(rows, [{ table_name: table }], `${name} created ${table}`);

  const ready = await fetch(`${service.url}/readyz`);
  assert.equal(ready.status, 200);
  assert.equal((await ready.json() as { checks: { database: string } }).checks.database, 'ok');

  assert.deepEqual(await service.shutdown('checked'), { clean: true });
}

void describe('every service migrates and starts on a fresh database', () => {
  for (const service of services) {
    void test(service.name, async (t) => {
      const url = await createTestDatabase(t);
      if (url === undefined) return;
      await startAndCheck(t, service, url);
    });
  }
});
