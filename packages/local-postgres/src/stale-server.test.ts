import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { addCleanup, createTempDir } from '@baton/kit/testing';
import { isPostgresReady, startLocalPostgres } from './index.ts';
import { clearLeftoverServer, inspectLeftoverServer } from './stale-server.ts';

// What a server killed with SIGKILL leaves in its data folder, and how the next start copes.

/** A server on a data folder that outlives it (as var/postgres does), stopped after the test. */
async function serverOnFolder(t: Parameters<typeof addCleanup>[0]) {
  const dataDir = join(await createTempDir(t, 'baton-stale-'), 'postgres');
  const server = await startLocalPostgres({ dataDir, durability: 'throwaway' });
  addCleanup(t, () => server.stop());
  return { dataDir, server };
}

void test('a lock naming a process that is gone, or a pid now used by another program, is stale: removed, and the server starts over it', async (t) => {
  const { dataDir, server } = await serverOnFolder(t);
  await server.stop();
  assert.deepEqual(await inspectLeftoverServer(dataDir), { state: 'none' }, 'a clean stop leaves no lock');

  // SIGKILL, then the pid given to another process: PostgreSQL alone would refuse to start.
  const other = spawn('sleep', ['30']);
  addCleanup(t, () => other.kill('SIGKILL'));
  const lock = join(dataDir, 'postmaster.pid');
  await writeFile(lock, `${other.pid}\n${dataDir}\n1700000000\n5432\n${dataDir}\n127.0.0.1\n  1234 5678\nready   \n`);
  assert.deepEqual(await inspectLeftoverServer(dataDir), { state: 'stale', pid: other.pid });
  const again = await startLocalPostgres({ dataDir, durability: 'throwaway' });
  addCleanup(t, () => again.stop());
  assert.equal(await isPostgresReady(again.adminUrl), true, 'the next start clears the stale lock and serves');
  assert.equal((await readFile(lock, 'utf8')).split('\n')[0], String(again.pid), 'the lock is the new server\'s');
  assert.equal(other.exitCode, null, 'the process that had the pid is left alone');
});

void test('a server of the folder still running (its runner died) is stopped before a new one starts', async (t) => {
  const { dataDir, server } = await serverOnFolder(t);
  assert.deepEqual(await inspectLeftoverServer(dataDir), { state: 'running', pid: server.pid });
  const cleared = await clearLeftoverServer(dataDir);
  assert.deepEqual(cleared, { state: 'running', pid: server.pid });
  assert.equal(await isPostgresReady(server.adminUrl), false, 'the leftover server is down');
  assert.deepEqual(await inspectLeftoverServer(dataDir), { state: 'none' }, 'it shut down cleanly and took its lock with it');
});

void test('a lock that is not a lock (empty, garbage) is stale', async (t) => {
  const dataDir = await createTempDir(t, 'baton-stale-');
  await writeFile(join(dataDir, 'postmaster.pid'), 'garbage\n');
  assert.equal((await inspectLeftoverServer(dataDir)).state, 'stale');
  await clearLeftoverServer(dataDir);
  await assert.rejects(readFile(join(dataDir, 'postmaster.pid')), { code: 'ENOENT' });
  await rm(dataDir, { recursive: true, force: true });
});
