import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { KitError } from '@baton/kit/errors';
import { addCleanup, createTempDir } from '@baton/kit/testing';
import { openFsStore } from '../src/store/fs-store.ts';

const run = promisify(execFile);
const KiB = 1024;
const noSignal = () => ({ signal: new AbortController().signal, contentType: 'image/png', maxBytes: 64 * 1024 * KiB });

// A disk that is really full: a tmpfs of 1 MiB mounted over the store's folder (mounting needs
// root, on Linux). Without it the test says so; under CI it is required.
const canMount = process.platform === 'linux' && process.getuid?.() === 0;
const skip = canMount ? false : 'needs root on Linux, to mount a small tmpfs as a full disk';
if (!canMount && process.env.CI === 'true') throw new Error('the disk-full test must run under CI=true: run it as root on Linux');

test('a put onto a full disk fails with storage_full (507), leaves nothing, and the store takes puts again once there is room', { skip }, async (t) => {
  const root = await createTempDir(t, 'media-full-');
  await run('mount', ['-t', 'tmpfs', '-o', 'size=1m,mode=0700', 'tmpfs', root]);
  addCleanup(t, () => run('umount', [root]));
  const store = await openFsStore(root);

  const tooMuch = Readable.from((function* () { for (let i = 0; i < 32; i++) yield Buffer.alloc(64 * KiB, i); })());
  const error = await store.put('originals/big', tooMuch, noSignal()).then(() => undefined, (e: unknown) => e);
  assert.ok(error instanceof KitError, `the put failed with a KitError, not ${String(error)}`);
  assert.deepEqual([error.code, error.reason], ['resource_exhausted', 'storage_full']);
  assert.deepEqual(await readdir(join(root, '.partial')), [], 'nothing half-written is left');
  assert.equal(await store.size('originals/big', { signal: AbortSignal.timeout(1_000) }), undefined);

  const small = await store.put('originals/small', Readable.from([Buffer.alloc(16 * KiB, 1)]), noSignal());
  assert.equal(small.bytes, 16 * KiB);
});
