import { after } from 'node:test';

/** Where cleanups go: a test's context (`t`), or a `describe` block's scope from `createSuiteScope`. */
export interface CleanupScope {
  after(fn: () => unknown): void;
}

const stacks = new WeakMap<CleanupScope, Array<() => unknown>>();

/**
 * Registers work to run after the test, last registered first, like closing nested resources:
 * a service started on a temp dir is shut down before the dir is removed. (node:test runs its
 * own `after` hooks first registered first, which gets that order backwards.) Every cleanup
 * runs even when one fails; the failures are reported after all of them ran.
 *
 * @example
 * const dataDir = await createTempDir(t);
 * const service = await startService(definition, config, { logger });
 * addCleanup(t, () => service.shutdown('test over'));
 */
export function addCleanup(scope: CleanupScope, cleanup: () => unknown): void {
  let stack = stacks.get(scope);
  if (stack === undefined) {
    const created: Array<() => unknown> = [];
    stacks.set(scope, created);
    scope.after(async function runCleanups() {
      const failures: unknown[] = [];
      for (let next = created.pop(); next !== undefined; next = created.pop()) {
        try {
          await next();
        } catch (error) {
          failures.push(error);
        }
      }
      if (failures.length === 1) throw failures[0];
      if (failures.length > 1) throw new AggregateError(failures, `${failures.length} cleanups failed`);
    });
    stack = created;
  }
  stack.push(cleanup);
}

/**
 * A cleanup scope for resources the tests of one `describe` block share (a suite hook has no
 * `t.after`). Call it in the block's body; what is registered on it runs in the block's `after`.
 *
 * @example
 * describe('the catalogue', () => {
 *   const suite = createSuiteScope();
 *   let dataDir: string;
 *   before(async () => { dataDir = await createTempDir(suite); });
 * });
 */
export function createSuiteScope(): CleanupScope {
  const hooks: Array<() => unknown> = [];
  after(async function runSuiteCleanups() {
    for (const hook of hooks) await hook();
  });
  return { after: (fn) => void hooks.push(fn) };
}
