import { addCleanup, type CleanupScope } from './cleanup.ts';
import { createTestDatabase } from './postgres.ts';

/**
 * A fresh database for resources that several tests share (a service started once for a
 * `describe` block, from `createSuiteScope`), dropped when the scope ends; its URL. Tests that
 * can each have their own should call `createTestDatabase(t)` instead.
 *
 * @example
 * describe('the catalogue', () => {
 *   const suite = createSuiteScope();
 *   let inventory: TestInventory;
 *   before(async () => { inventory = await startInventory(suite, { DATABASE_URL: await createSuiteDatabase(suite) }); });
 * });
 */
export async function createSuiteDatabase(scope: CleanupScope): Promise<string> {
  // The drop joins the scope's own cleanups, so it runs after what was started on the database
  // later (the service lets go of its connections first), like any `addCleanup`.
  const url = await createTestDatabase({ after: (fn) => addCleanup(scope, fn), skip: () => {} });
  if (url === undefined) throw new Error('no test database');
  return url;
}
