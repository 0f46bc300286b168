import type { TestContext } from 'node:test';
import { startService, type RunningService } from '@baton/kit/service';
import { createLogger } from '@baton/kit/telemetry';
import { createSuiteDatabase, createTestDatabase, testIdentity } from '@baton/kit/testing';
import { readConfig } from '../../src/config.ts';
import { inventoryService } from '../../src/service.ts';

export interface TestInventory {
  url: string;
  service: RunningService;
  /** Shuts the service down, and drops its database when it made one. */
  stop(): Promise<void>;
}

/**
 * The inventory service in this process, on a free port, over real HTTP. It keeps its data in
 * the PostgreSQL database `DATABASE_URL` names, or else in a fresh one of its own on the test
 * server, dropped by `stop()`. A server that does not answer fails the caller (a suite's
 * `before` cannot skip); a test that may be skipped brings its own with `startInventoryFor`.
 */
export async function startInventory(environment: Record<string, string> = {}): Promise<TestInventory> {
  const drops: Array<() => unknown> = [];
  const dropDatabase = async () => {
    for (const drop of drops.splice(0)) await drop();
  };
  let service: RunningService;
  try {
    const databaseUrl = environment.DATABASE_URL ?? await createSuiteDatabase({ after: (fn) => void drops.push(fn) });
    // Staff's tokens are checked against users; nothing listens there, so here every staff route is 503.
    // No half-second notice before the listeners close: nothing here calls through a pool that must hear it.
    const config = readConfig({
      HOST: '127.0.0.1', PORT: '0', GRPC_PORT: '0', USERS_URLS: 'http://127.0.0.1:9', SHUTDOWN_NOTICE_MS: '0', ...testIdentity.env('inventory'), ...environment, DATABASE_URL: databaseUrl,
    });
    service = await startService(inventoryService, config, { logger: createLogger({ service: 'inventory', level: 'silent' }) });
  } catch (error) {
    // A service that failed to start has no stop(): its database must go now.
    await dropDatabase();
    throw error;
  }
  return {
    url: service.url,
    service,
    async stop() {
      await service.shutdown('tests finished');
      await dropDatabase();
    },
  };
}

/**
 * The service for one test, on a fresh PostgreSQL database of its own, stopped after the test.
 * When no PostgreSQL answers, createTestDatabase skips the test (and fails it under CI=true);
 * this then answers undefined and the test returns.
 */
export async function startInventoryFor(t: TestContext, environment: Record<string, string> = {}): Promise<TestInventory | undefined> {
  const held: { inventory?: TestInventory } = {};
  // Registered before the database's own clean-up, so it runs first (after hooks run in
  // order): the service lets go of its connections before its database is dropped.
  t.after(() => held.inventory?.stop());
  const url = await createTestDatabase(t);
  if (url === undefined) return undefined;
  held.inventory = await startInventory({ ...environment, DATABASE_URL: url });
  return held.inventory;
}
