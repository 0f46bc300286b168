import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addCleanup, type CleanupScope } from './cleanup.ts';

/**
 * A fresh directory under the system's temp dir, removed with everything in it after the test,
 * after the cleanups registered later with `addCleanup` (a service using it) have run.
 *
 * @example
 * const dataDir = await createTempDir(t);
 */
export async function createTempDir(t: CleanupScope, prefix = 'baton-test-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  addCleanup(t, function removeTempDir() {
    return rm(dir, { recursive: true, force: true, maxRetries: 3 });
  });
  return dir;
}
