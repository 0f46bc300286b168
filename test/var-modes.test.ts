import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmod, lstat, mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { testIdentity } from '@baton/kit/testing';
import { randomPortBase, startStack } from '@baton/runner';
import { secureVarDir } from '../packages/runner/src/var-modes.ts';

interface Entry { path: string; mode: number; directory: boolean; file: boolean }

async function walk(folder: string, found: Entry[] = []): Promise<Entry[]> {
  for (const name of await readdir(folder)) {
    const path = join(folder, name);
    const stats = await lstat(path);
    if (stats.isSymbolicLink()) continue;
    found.push({ path, mode: stats.mode & 0o7777, directory: stats.isDirectory(), file: stats.isFile() });
    if (stats.isDirectory()) await walk(path, found);
  }
  return found;
}

const isRoot = process.getuid?.() === 0;
// `runuser` (util-linux) runs a command as another user; only root may.
const canRunAsNobody = isRoot && spawnSync('runuser', ['-u', 'nobody', '--', 'true']).status === 0;

test('secureVarDir tightens what an earlier Baton left loose, and follows no link', async (t) => {
  const varDir = await mkdtemp(join(tmpdir(), 'baton-var-modes-'));
  t.after(() => rm(varDir, { recursive: true, force: true }));
  const outside = await mkdtemp(join(tmpdir(), 'baton-var-outside-'));
  t.after(() => rm(outside, { recursive: true, force: true }));
  await chmod(varDir, 0o755);
  await mkdir(join(varDir, 'mail', 'old'), { recursive: true, mode: 0o755 });
  await writeFile(join(varDir, 'mail', 'old', 'a.eml'), 'x', { mode: 0o666 });
  await writeFile(join(outside, 'theirs'), 'x', { mode: 0o644 });
  await symlink(outside, join(varDir, 'link'));
  const umask = process.umask();
  t.after(() => void process.umask(umask));

  await secureVarDir(varDir);
  assert.equal((await lstat(varDir)).mode & 0o777, 0o700);
  assert.equal((await lstat(join(varDir, 'mail', 'old'))).mode & 0o777, 0o700);
  assert.equal((await lstat(join(varDir, 'mail', 'old', 'a.eml'))).mode & 0o777, 0o600);
  assert.equal((await lstat(join(outside, 'theirs'))).mode & 0o777, 0o644, 'a link is not followed');
  assert.equal(process.umask(), 0o077, 'what the runner and its services make from now on is private');
});

test('under npm start, var/ and everything in it is private to its user: folders 0700, files 0600', async (t) => {
  const varDir = await mkdtemp(join(tmpdir(), 'baton-var-modes-'));
  t.after(() => rm(varDir, { recursive: true, force: true }));
  const umask = process.umask();
  t.after(() => void process.umask(umask));
  // The embedded PostgreSQL, users (its secret) and notifications (its mail): what writes to var/.
  const stack = await startStack({ services: ['users', 'notifications'], portBase: randomPortBase(), varDir, env: { ...process.env, LOG_LEVEL: 'warn' }, serviceKeys: { gateway: testIdentity.keyPair('gateway') } });
  t.after(() => stack.shutdown());

  // A sign-up makes notifications write a welcome email under var/mail.
  const email = `modes-${Date.now()}@example.com`;
  const registered = await fetch(new URL('/v1/users', stack.url('users')), {
    method: 'POST', headers: { 'content-type': 'application/json', ...await testIdentity.headers('gateway', 'users') },
    body: JSON.stringify({ email, password: 'correct horse battery staple', name: 'Modes' }),
  });
  assert.equal(registered.status, 201);
  let mail: Entry[] = [];
  for (let i = 0; i < 300 && mail.length === 0; i++) {
    await sleep(100);
    mail = (await walk(varDir)).filter((entry) => entry.path.endsWith('.eml'));
  }
  assert.ok(mail.length > 0, 'an email was written under var/');

  const entries = await walk(varDir);
  const relativeOf = (entry: Entry) => relative(varDir, entry.path);
  for (const expected of ['secrets/token-key-encryption-key', 'postgres/PG_VERSION', 'baton.lock']) {
    assert.ok(entries.some((entry) => relativeOf(entry) === expected), `${expected} is there`);
  }
  // Folders 0700, files 0600; anything else (PostgreSQL's socket) at least nothing for group and others.
  const loose = entries.filter((entry) => (entry.mode & 0o077) !== 0 || (entry.directory && entry.mode !== 0o700) || (entry.file && entry.mode !== 0o600))
    .map((entry) => `${relativeOf(entry)} ${entry.mode.toString(8)}`);
  assert.deepEqual(loose, []);
  // The folder itself: nothing for others; under root, PostgreSQL's own group may pass through (not list) to its data folder.
  const top = (await lstat(varDir)).mode & 0o777;
  assert.equal(top, isRoot ? 0o710 : 0o700);

  if (canRunAsNobody) {
    for (const path of ['secrets/token-key-encryption-key', relativeOf(mail[0]!)]) {
      const read = spawnSync('runuser', ['-u', 'nobody', '--', 'cat', join(varDir, path)], { encoding: 'utf8' });
      assert.notEqual(read.status, 0, `nobody read ${path}`);
      assert.match(read.stderr, /Permission denied/);
    }
    const list = spawnSync('runuser', ['-u', 'nobody', '--', 'ls', varDir], { encoding: 'utf8' });
    assert.notEqual(list.status, 0);
    assert.match(list.stderr, /Permission denied/);
  } else {
    t.diagnostic('not root (or no runuser): the check that another user cannot read var/ rests on the modes alone');
  }
});
