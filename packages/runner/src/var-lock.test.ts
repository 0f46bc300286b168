import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createTempDir } from '@baton/kit/testing';
import { acquireVarLock, runningStackIn } from './var-lock.ts';

const owner = (pid: number) => ({ pid, url: 'http://127.0.0.1:8080', portBase: 8080, startedAt: '2026-12-03T08:00:00.000Z' });

test('one stack a data folder: a second is refused and told who holds it; once released, the folder is free', async (t) => {
  const varDir = await createTempDir(t, 'baton-lock-');
  const first = await acquireVarLock(varDir, owner(process.pid));
  assert.ok(first.ok);
  const second = await acquireVarLock(varDir, { ...owner(process.pid), url: 'http://127.0.0.1:9080' });
  assert.equal(second.ok, false, 'even from the same process: each lock is its own');
  assert.equal(!second.ok && second.owner.url, 'http://127.0.0.1:8080');
  assert.equal((await runningStackIn(varDir))?.pid, process.pid);
  await first.lock.release();
  assert.equal(await runningStackIn(varDir), undefined);
  const third = await acquireVarLock(varDir, owner(process.pid));
  assert.ok(third.ok);
  await third.lock.release();
});

test('a lock whose runner is gone, or whose pid another program has since, is taken over', async (t) => {
  const varDir = await createTempDir(t, 'baton-lock-');
  const lockFile = join(varDir, 'baton.lock');
  // A pid nothing runs under.
  await writeFile(lockFile, JSON.stringify({ ...owner(2 ** 22 + 7), token: 'gone' }));
  assert.equal(await runningStackIn(varDir), undefined);
  const taken = await acquireVarLock(varDir, owner(process.pid));
  assert.ok(taken.ok, 'a dead runner\'s lock is taken over');
  await taken.lock.release();

  // A live process that is not the runner the lock names: its start time differs (Linux).
  const other = spawn('sleep', ['30']);
  t.after(() => other.kill('SIGKILL'));
  await writeFile(lockFile, JSON.stringify({ ...owner(other.pid!), pidStartedAt: 1, token: 'reused' }));
  const again = await acquireVarLock(varDir, owner(process.pid));
  assert.ok(again.ok, 'a reused pid does not keep the folder locked');
  assert.equal(JSON.parse(await readFile(lockFile, 'utf8')).pid, process.pid);
  await again.lock.release();
});
