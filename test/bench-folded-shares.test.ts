import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

// bench/README.md's figures for the kit's share of a service's CPU come from this tool: each
// sample is charged to the innermost frame of ours or of a package, Node's own frames under it
// counted in, and only the named service's samples count.

const run = promisify(execFile);
const script = new URL('../bench/profile/folded-shares.ts', import.meta.url).pathname;

test('folded-shares charges each sample to the innermost function of ours or of a package, Node\'s own work under it included', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'baton-folded-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'folded.txt');
  await writeFile(file, [
    // A listener added by the kit's `run`: charged to `run`.
    'orders;processTicksAndRejections node:internal/process/task_queues:72;run packages/kit/src/db/postgres.ts:76;addEventListener node:internal/event_target:1 30',
    // pg under the kit's `run`: charged to pg, the innermost code frame.
    'orders;run packages/kit/src/db/postgres.ts:76;query pg/lib/client.js:668;writev 50',
    // No frame of ours or of a package: counted in the total only.
    'orders;(garbage collector) 20',
    // Another service's samples are not this one's.
    'inventory;run packages/kit/src/db/postgres.ts:76 999',
    '',
  ].join('\n'));
  const { stdout } = await run(process.execPath, [script, file, 'orders', 'packages/kit/src']);
  assert.deepEqual(stdout.trim().split('\n').map((line) => line.trim()), [
    'orders: 100 samples; 30.00% in functions matching "packages/kit/src"',
    '30.00%  run packages/kit/src/db/postgres.ts:76',
  ]);
  const pg = await run(process.execPath, [script, file, 'orders', 'pg/lib']);
  assert.match(pg.stdout, /50\.00%\s+query pg\/lib\/client\.js:668/);
  // By package: the kit's folder, pg, and V8's own entry for the sample with no code in it.
  const packages = await run(process.execPath, [script, file, 'orders', '--packages']);
  assert.deepEqual(packages.stdout.trim().split('\n').map((line) => line.trim()), [
    'orders: 100 samples, by package',
    '50.00%  pg',
    '30.00%  kit/db',
    '20.00%  (garbage collector)',
  ]);
  await assert.rejects(run(process.execPath, [script, file, 'users']), /no samples of users/);
});
