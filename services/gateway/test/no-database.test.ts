import { test } from 'node:test';
import assert from 'node:assert/strict';
import { access } from 'node:fs/promises';
import { startService } from '@baton/kit/service';
import { addCleanup, testIdentity, createSilentLogger } from '@baton/kit/testing';
import { readConfig } from '../src/config.ts';
import { gatewayService } from '../src/service.ts';
import { startServicesBehind } from './support/services-behind.ts';

// The gateway keeps no data: it verifies tokens and forwards. So it is given no database, and
// nothing about it may wait for one: not its config, its start, its readiness or its metrics.

test('the gateway reads no DATABASE_URL and has no migrations', async () => {
  const config = readConfig({ ...testIdentity.env('gateway', []), USERS_URLS: 'http://127.0.0.1:1', INVENTORY_URLS: 'http://127.0.0.1:1', ORDERS_URLS: 'http://127.0.0.1:1', NOTIFICATIONS_URLS: 'http://127.0.0.1:1' });
  assert.equal('DATABASE_URL' in config, false);
  assert.equal('DATABASE_POOL_MAX' in config, false);
  assert.equal(gatewayService.migrationsDir, undefined);
  await assert.rejects(access(new URL('../migrations/', import.meta.url)), { code: 'ENOENT' }, 'no migrations folder');
});

test('the gateway starts without a database, is ready without probing one, and has no pool to report', async (t) => {
  const behind = await startServicesBehind(t);
  const config = readConfig({
    ...testIdentity.env('gateway', []),
    HOST: '127.0.0.1',
    PORT: '0',
    // Were it read, this would fail the start: nothing listens on port 1.
    DATABASE_URL: 'postgres://gateway@127.0.0.1:1/gateway',
    USERS_URLS: behind.url,
    INVENTORY_URLS: behind.url,
    ORDERS_URLS: behind.url,
    NOTIFICATIONS_URLS: behind.url,
    USERS_JWKS_URL: behind.jwksUrl,
  });
  const gateway = await startService(gatewayService, config, { logger: createSilentLogger('gateway') });
  addCleanup(t, () => gateway.shutdown('test over'));
  assert.equal(gateway.db, undefined);

  const ready = await fetch(`${gateway.url}/readyz`);
  assert.equal(ready.status, 200);
  const { checks } = await ready.json() as { checks: Record<string, string> };
  assert.equal('database' in checks, false, `readiness checks: ${JSON.stringify(checks)}`);

  const metrics = await (await fetch(`${gateway.adminUrl}/metrics`)).text();
  assert.doesNotMatch(metrics, /^baton_db_pool/m, 'no database pool gauges');
  assert.match(metrics, /^baton_client_in_flight/m, 'the other resource gauges are there');

  assert.equal((await fetch(`${gateway.url}/api/v1/products`)).status, 200, 'it forwards');
  assert.deepEqual(await gateway.shutdown('checked'), { clean: true });
});
