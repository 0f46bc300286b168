import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { startService, type RunningService } from '@baton/kit/service';
import { createLogger } from '@baton/kit/telemetry';
import { createTestDatabase } from '@baton/kit/testing';
import { readConfig } from '../../src/config.ts';
import { inventoryService } from '../../src/service.ts';

export interface TestInventory {
  url: string;
  service: RunningService;
  /** Shuts the service down and removes its data directory. */
  stop(): Promise<void>;
}

export type Backend = 'pglite' | 'postgres';

/**
 * The inventory service in this process, on a free port, over real HTTP. Without DATABASE_URL
 * it keeps its data in a PGlite of its own under a temporary directory.
 */
export async function startInventory(environment: Record<string, string> = {}): Promise<TestInventory> {
  const dataDir = await mkdtemp(join(tmpdir(), 'baton-inventory-'));
  let service: RunningService;
  try {
    const config = readConfig({ HOST: '127.0.0.1', PORT: '0', GRPC_PORT: '0', DATA_DIR: dataDir, ...environment });
    service = await startService(inventoryService, config, { logger: createLogger({ service: 'inventory', level: 'silent' }) });
  } catch (error) {
    // A service that failed to start has no stop(): its directory must go now.
    await rm(dataDir, { recursive: true, force: true });
    throw error;
  }
  return {
    url: service.url,
    service,
    async stop() {
      await service.shutdown('tests finished');
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * The service for one test, on PGlite or on a fresh PostgreSQL database of its own, stopped
 * after the test. When no PostgreSQL answers, createTestDatabase skips the test (and fails it
 * under CI=true); this then answers undefined and the test returns.
 */
export async function startInventoryFor(t: TestContext, backend: Backend, environment: Record<string, string> = {}): Promise<TestInventory | undefined> {
  let inventory: TestInventory | undefined;
  // Registered before the database's own clean-up, so it runs first (after hooks run in
  // order): the service lets go of its connections before its database is dropped.
  t.after(() => inventory?.stop());
  if (backend === 'postgres') {
    const url = await createTestDatabase(t);
    if (url === undefined) return undefined;
    inventory = await startInventory({ ...environment, DATABASE_URL: url });
  } else {
    inventory = await startInventory(environment);
  }
  return inventory;
}
