import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomPortBase, repoRoot } from '@baton/runner';

// The promise to a new user, as they would keep it: `npm start` in a terminal, wait for the
// URLs, press Ctrl-C. A pseudo-terminal (util-linux `script`) makes the Ctrl-C a real one: the
// terminal sends SIGINT to npm and everything under it at once. The shell inside `script` stands
// for the user's interactive shell, which outlives a Ctrl-C: without the trap a non-interactive
// dash (the /bin/sh `script` falls back to when SHELL is unset) would die with npm's SIGINT and
// never report npm's exit status. The trap is reset to the default in npm, so npm still gets it.
const hasScript = spawnSync('script', ['--version']).status === 0;

test('npm start in a terminal: every service ready with its URL printed; Ctrl-C stops them all and npm exits 0', { skip: hasScript ? false : 'util-linux `script` is not installed' }, async (t) => {
  const varDir = await mkdtemp(join(tmpdir(), 'baton-npm-start-'));
  t.after(() => rm(varDir, { recursive: true, force: true }));
  const portBase = randomPortBase();
  const child = spawn('script', ['-q', '-e', '-c', 'trap : INT; npm start; echo "NPM_EXIT=$?"', '/dev/null'], {
    cwd: repoRoot,
    env: { ...process.env, SHELL: '/bin/sh', BATON_PORT_BASE: String(portBase), BATON_VAR_DIR: varDir, LOG_LEVEL: 'warn' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  t.after(() => { if (child.exitCode === null) child.kill('SIGKILL'); });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => { output += chunk.toString(); });
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));

  for (let i = 0; i < 240 && !output.includes('Baton is ready'); i++) await new Promise((r) => setTimeout(r, 500));
  assert.match(output, /Baton is ready/, output.slice(-2_000));
  for (const [index, name] of ['gateway', 'users', 'inventory', 'orders', 'notifications'].entries()) {
    const url = `http://127.0.0.1:${portBase + index}`;
    assert.ok(output.includes(url), `${name}'s URL ${url} is printed`);
    assert.equal((await fetch(`${url}/readyz`)).status, 200, `${name} is ready`);
  }

  child.stdin.write('\x03');
  await exited;
  assert.match(output, /NPM_EXIT=0/, output.slice(-2_000));
  for (let index = 0; index < 5; index++) {
    await assert.rejects(fetch(`http://127.0.0.1:${portBase + index}/healthz`), 'nothing listens any more');
  }
});
