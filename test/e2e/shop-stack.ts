import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase, metricValue, parseMetrics, type CleanupScope } from '@baton/kit/testing';
import { randomPortBase, serviceNames, startStack, type ServiceName, type Stack } from '@baton/runner';

export interface ShopStack {
  stack: Stack;
  gateway: string;
  database: 'postgres' | 'pglite';
  /** Why the stack runs on PGlite, when it does: say it in the test's output. */
  note: string | undefined;
}

/**
 * The whole shop as real processes, for end-to-end tests: each service on its own PostgreSQL
 * database when the server is reachable (required under CI=true), else on PGlite, on ports and
 * data folders of its own so it never meets a developer's running stack.
 */
export async function startShop(scope: CleanupScope, serviceEnv: Partial<Record<ServiceName, NodeJS.ProcessEnv>> = {}): Promise<ShopStack> {
  let reachable = true;
  let note: string | undefined;
  const databases: Partial<Record<ServiceName, string>> = {};
  for (const name of serviceNames) {
    const url = await createTestDatabase({ after: (fn) => scope.after(fn), skip: (message?: string) => { reachable = false; note = `${message ?? 'PostgreSQL unreachable'}; running on PGlite`; } });
    if (url === undefined) break;
    databases[name] = url;
  }
  const varDir = await mkdtemp(join(tmpdir(), 'baton-e2e-'));
  scope.after(() => rm(varDir, { recursive: true, force: true }));
  const env = Object.fromEntries(serviceNames.map((name) => [name, {
    LOG_LEVEL: 'warn',
    ...(reachable && databases[name] ? { DATABASE_URL: databases[name] } : {}),
    ...serviceEnv[name],
  }])) as unknown as Record<ServiceName, NodeJS.ProcessEnv>;
  const stack = await startStack({ portBase: randomPortBase(), varDir, serviceEnv: env, startTimeoutMs: 90_000 });
  scope.after(() => stack.shutdown());
  return { stack, gateway: stack.url('gateway'), database: reachable ? 'postgres' : 'pglite', note };
}

/** How many calls of one gRPC method a service answered successfully, from its `/metrics`. */
export async function rpcCount(shop: ShopStack, name: ServiceName, service: string, method: string): Promise<number> {
  const text = await (await fetch(new URL('/metrics', shop.stack.url(name)))).text();
  return metricValue(parseMetrics(text), 'rpc_server_requests_total', { service, method, code: 'ok' });
}
