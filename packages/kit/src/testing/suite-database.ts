import { addCleanup, type CleanupScope } from './cleanup.ts';
import { createTestDatabase } from './postgres.ts';

/**
 * A fresh database for resources that several tests share (a service started once for a
 * `describe` block, from `createSuiteScope`), dropped when the scope ends; its URL. Tests that
 * can each have their own should call `createTestDatabase(t)` instead.
 *
 * A suite cannot be skipped from inside its `before` hook, so a PostgreSQL that does not answer
 * fails it, with the reason `createTestDatabase` would have skipped a test for.
 *
 * @example
 * describe('the catalogue', () => {
 *   const suite = createSuiteScope();
 *   let inventory: TestInventory;
 *   before(async () => { inventory = await startInventory(suite, { DATABASE_URL: await createSuiteDatabase(suite) }); });
 * });
 */
export async function createSuiteDatabase(scope: CleanupScope): Promise<string> {
  let unreachable: string | undefined;
  // The drop joins the scope's own cleanups, so it runs after what was started on the database
  // later (the service lets go of its connections first), like any `addCleanup`.
  const drops: Array<() => unknown> = [];
  const url = await createTestDatabase({
    after: (fn) => void drops.push(fn),
    skip: (message?: string) => {
      unreachable = message;
    },
  });
  for (const drop of drops) addCleanup(scope, drop);
  if (url === undefined) throw new Error(`a suite cannot skip itself, so it fails: ${unreachable ?? 'PostgreSQL not reachable'}`);
  return url;
}
