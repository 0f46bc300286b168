import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, chown, lstat, mkdir, readFile, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { addCleanup, createTempDir } from '@baton/kit/testing';
import { prepareServer, startLocalPostgres } from './index.ts';

// What another user on the machine could prepare for a runner started by root, found trying the
// shop as an attacker would: links and folders where the database's files go.

const isRoot = process.getuid?.() === 0;

void test('a link where the data folder should be is refused, and what it points at is left alone', async (t) => {
  const root = await createTempDir(t, 'baton-safety-');
  const victim = join(root, 'victim');
  await mkdir(victim);
  await writeFile(join(victim, 'precious'), 'mine');
  const varDir = join(root, 'var');
  await mkdir(varDir);
  await symlink(victim, join(varDir, 'postgres'));
  await assert.rejects(prepareServer({ dataDir: join(varDir, 'postgres'), port: 1 }), /is a link or not a folder: remove it/);
  const stats = await lstat(victim);
  assert.equal(stats.uid, process.getuid?.(), 'the target keeps its owner');
  assert.equal(await readFile(join(victim, 'precious'), 'utf8'), 'mine');
});

void test('a data folder that belongs to another user is refused', async (t) => {
  const root = await createTempDir(t, 'baton-safety-');
  const dataDir = join(root, 'postgres');
  await mkdir(dataDir);
  // Only root can give a folder to another user; run as anyone else, the test checks that a
  // folder it may not write in is refused too.
  if (isRoot) {
    await chown(dataDir, 65_534, 65_534);
    await assert.rejects(prepareServer({ dataDir, port: 1 }), /belongs to another user \(uid 65534\)/);
  } else {
    await assert.rejects(prepareServer({ dataDir: join('/', 'postgres-of-root'), port: 1 }), /belongs to another user|EACCES|permission denied/i);
  }
});

void test('a link put where pg_hba.conf was is replaced, not written through', async (t) => {
  const root = await createTempDir(t, 'baton-safety-');
  const dataDir = join(root, 'postgres');
  const first = await startLocalPostgres({ dataDir, durability: 'throwaway' });
  await first.stop();
  // The server's own user owns the data folder and could do this between two starts.
  const victim = join(root, 'victim.txt');
  await writeFile(victim, 'root\'s file\n');
  const hba = join(dataDir, 'pg_hba.conf');
  await rm(hba);
  await symlink(victim, hba);
  const again = await startLocalPostgres({ dataDir, durability: 'throwaway' });
  addCleanup(t, () => again.stop());
  assert.equal(await readFile(victim, 'utf8'), 'root\'s file\n', 'the link\'s target is untouched');
  assert.equal((await lstat(hba)).isSymbolicLink(), false, 'pg_hba.conf is a file of its own again');
  assert.match(await readFile(hba, 'utf8'), /host\s+sameuser/);
  await assert.rejects(readlink(hba), { code: 'EINVAL' });
});

void test('a data folder whose path is too long for a socket is refused with what to do, before anything is made', async (t) => {
  const root = await createTempDir(t, 'baton-safety-');
  const dataDir = join(root, 'a'.repeat(100), 'postgres');
  await assert.rejects(prepareServer({ dataDir, port: 1 }), /too long a path for PostgreSQL's socket .* choose a shorter BATON_VAR_DIR/);
  await assert.rejects(lstat(join(root, 'a'.repeat(100))), { code: 'ENOENT' }, 'nothing was made');
});

void test('a data folder not made yet straight inside a folder anyone may write in (like /tmp) is refused: a link could appear there first', async (t) => {
  const root = await createTempDir(t, 'baton-safety-');
  const shared = join(root, 'shared');
  await mkdir(shared);
  await chmod(shared, 0o1777);
  await assert.rejects(prepareServer({ dataDir: join(shared, 'postgres'), port: 1 }), /is a folder anyone may write in: Baton's data goes in a folder of its own there/);
  await assert.rejects(lstat(join(shared, 'postgres')), { code: 'ENOENT' }, 'nothing was made');
});
