import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { randomPortBase, repoRoot, serviceNames } from './index.ts';
import { readLines } from './log-line.ts';

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function readyzStatus(baseUrl: string): Promise<number | 'refused'> {
  try {
    const response = await fetch(new URL('/readyz', baseUrl), { signal: AbortSignal.timeout(5_000) });
    await response.body?.cancel();
    return response.status;
  } catch {
    return 'refused';
  }
}

test('npm start: all five services ready with their URLs, Ctrl-C stops every one and exits 0', { timeout: 240_000 }, async (t) => {
  const varDir = await mkdtemp(join(tmpdir(), 'baton-runner-cli-'));
  const portBase = randomPortBase();
  const runner = spawn(process.execPath, ['packages/runner/src/main.ts'], {
    cwd: repoRoot,
    env: { ...process.env, BATON_PORT_BASE: String(portBase), BATON_VAR_DIR: varDir, BATON_LOG_FORMAT: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const records: Array<Record<string, unknown>> = [];
  const notJson: string[] = [];
  const stderr: string[] = [];
  const childPids = new Set<number>();
  let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const exited = new Promise<NonNullable<typeof exit>>((resolve) => {
    runner.once('exit', (code, signal) => resolve(exit = { code, signal }));
  });
  if (runner.stdout) readLines(runner.stdout, (text) => {
    try {
      const record = JSON.parse(text) as Record<string, unknown>;
      records.push(record);
      if (record.event === 'service_starting' && typeof record.child_pid === 'number') childPids.add(record.child_pid);
    } catch {
      notJson.push(text);
    }
  });
  if (runner.stderr) readLines(runner.stderr, (text) => stderr.push(text));
  t.after(async () => {
    // Whatever failed above, nothing is left running: SIGKILL skips the runner's own clean-up,
    // so its children are killed here too.
    if (exit === undefined) runner.kill('SIGKILL');
    for (const pid of childPids) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
    await rm(varDir, { recursive: true, force: true });
  });
  const output = () => [...records.slice(-30).map((r) => JSON.stringify(r)), ...notJson, ...stderr].join('\n');

  const waitFor = async (what: string, condition: () => boolean, timeoutMs: number) => {
    const deadline = performance.now() + timeoutMs;
    while (!condition()) {
      if (exit !== undefined) assert.fail(`the runner exited (${JSON.stringify(exit)}) before ${what}:\n${output()}`);
      if (performance.now() > deadline) assert.fail(`timed out waiting for ${what}:\n${output()}`);
      await sleep(50);
    }
  };

  await waitFor('"Baton is ready"', () => records.some((r) => r.event === 'baton_ready'), 180_000);
  const ready = records.filter((r) => r.event === 'ready');
  assert.deepEqual(
    ready.map((r) => r.msg),
    serviceNames.map((name, i) => `ready ${name} http://127.0.0.1:${portBase + i}`),
    'one line a service, the gateway first',
  );
  const batonReady = records.find((r) => r.event === 'baton_ready');
  assert.equal(batonReady?.msg, `Baton is ready: http://127.0.0.1:${portBase} (press Ctrl-C to stop)`);
  for (const record of ready) assert.equal(await readyzStatus(String(record.url)), 200, `${String(record.name)} answers /readyz`);
  assert.equal(childPids.size, serviceNames.length, 'one process a service');

  runner.kill('SIGINT');
  assert.deepEqual(await exited, { code: 0, signal: null }, output());
  for (const pid of childPids) assert.equal(isAlive(pid), false, `child ${pid} is gone`);
  const stoppedCleanly = records.filter((r) => r.event === 'service_stopped' && r.exit_code === 0).map((r) => r.name);
  assert.deepEqual(stoppedCleanly.toSorted(), [...serviceNames].toSorted(), 'each service shut down gracefully, on SIGTERM');
  for (const record of ready) assert.equal(await readyzStatus(String(record.url)), 'refused', `${String(record.name)} no longer listens`);
  assert.deepEqual(notJson, [], 'with stdout not a terminal, every line is JSON');
  assert.ok(records.every((r) => typeof r.service === 'string'), 'every line names its service');
});
