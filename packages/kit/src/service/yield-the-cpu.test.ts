import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';

const module = pathToFileURL(new URL('./yield-the-cpu.ts', import.meta.url).pathname).href;
// A child that lowers its own priority as media and notifications do, then says where it stands.
const script = `
import { getPriority } from 'node:os';
import { readFileSync } from 'node:fs';
const { yieldTheCpu } = await import(${JSON.stringify(module)});
await yieldTheCpu(10, { warn: (fields, message) => console.error(message, JSON.stringify(fields)) });
console.log(JSON.stringify({ niceness: getPriority(), group: readFileSync('/proc/self/autogroup', 'utf8').trim() }));
`;

async function child({ ownSession }: { ownSession: boolean }): Promise<{ niceness: number; group: string }> {
  const proc = spawn(process.execPath, ['--input-type=module', '-e', script], { detached: ownSession, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  proc.stdout.on('data', (chunk: Buffer) => { out += chunk; });
  proc.stderr.on('data', (chunk: Buffer) => { err += chunk; });
  const code = await new Promise<number | null>((resolve) => proc.on('close', resolve));
  assert.equal(code, 0, err);
  assert.equal(err, '', 'no warning: lowering one\'s own priority is always allowed');
  return JSON.parse(out) as { niceness: number; group: string };
}

const autogroups = existsSync('/proc/self/autogroup');

void describe('yieldTheCpu', { skip: autogroups ? false : 'skipped: this kernel has no autogroup scheduling (/proc/self/autogroup), which these tests look at' }, () => {
  test('a process that leads its session (as the runner starts media) lowers its threads and its session\'s scheduling group', async () => {
    const { niceness, group } = await child({ ownSession: true });
    assert.equal(niceness, 10);
    assert.match(group, / nice 10$/);
  });

  test('a process in another\'s session lowers its threads only: the group is whoever started it, not its to lower', async () => {
    const before = readFileSync('/proc/self/autogroup', 'utf8').trim();
    const { niceness, group } = await child({ ownSession: false });
    assert.equal(niceness, 10);
    assert.equal(group, before, 'it stayed in this test\'s group, as it was');
    assert.equal(readFileSync('/proc/self/autogroup', 'utf8').trim(), before);
  });
});
