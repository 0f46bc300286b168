import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createTempDir } from '@baton/kit/testing';
import { repoRoot } from '@baton/runner';
import { engineMismatches } from '../scripts/check-engines.ts';

// A clean `npm install`: every install script decided, engines checked against the Node that
// runs Baton (not the one that runs npm).

interface Lockfile { packages: Record<string, { version?: string; hasInstallScript?: boolean; engines?: { node?: string } }> }
const readJson = async <T>(path: string) => JSON.parse(await readFile(join(repoRoot, path), 'utf8')) as T;

test('every package with an install script is decided in allowScripts, run or not', async () => {
  const lock = await readJson<Lockfile>('package-lock.json');
  const { allowScripts = {} } = await readJson<{ allowScripts?: Record<string, boolean> }>('package.json');
  // The root (path '') has its own postinstall, scripts/check-engines.ts: ours, not a dependency's.
  const withScripts = Object.entries(lock.packages).filter(([path, entry]) => path !== '' && entry.hasInstallScript === true).map(([path]) => path.replace(/^.*node_modules\//, ''));
  assert.ok(withScripts.includes('node'), 'the lockfile lists install scripts');
  assert.deepEqual(withScripts.filter((name) => typeof allowScripts[name] !== 'boolean'), [], 'each one is allowed or refused explicitly');
});

test('every installed package supports the Node that runs Baton', () => {
  assert.deepEqual(engineMismatches(join(repoRoot, 'package-lock.json'), process.version), []);
});

test('a package that does not support that Node is named; one for another platform, not installed, is not', async (t) => {
  const root = await createTempDir(t, 'baton-engines-');
  await mkdir(join(root, 'node_modules', 'future-lib'), { recursive: true });
  await mkdir(join(root, 'node_modules', 'fine-lib'), { recursive: true });
  const lock: Lockfile = {
    packages: {
      '': { engines: { node: '>=1' } },
      'node_modules/future-lib': { version: '3.0.0', engines: { node: '>=99' } },
      'node_modules/fine-lib': { version: '1.0.0', engines: { node: '>=20' } },
      'node_modules/other-platform-lib': { version: '1.0.0', engines: { node: '>=99' } },
    },
  };
  await writeFile(join(root, 'package-lock.json'), JSON.stringify(lock));
  assert.deepEqual(engineMismatches(join(root, 'package-lock.json'), 'v24.21.0'), [{ name: 'future-lib', version: '3.0.0', required: '>=99' }]);
});
