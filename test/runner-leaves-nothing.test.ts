import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { addCleanup, captureOutput, hasProcFs, isListening, isRunning, processTree, type ChildOutput } from '@baton/kit/testing';
import { randomPortBase, repoRoot } from '@baton/runner';

// `npm start`'s runner killed the hard way (SIGKILL: no handler runs, it cannot stop anything
// itself): every service and the database must notice and go, so the next `npm start` works.
// Linux only: the process tree is read from /proc.

interface Runner {
  child: ChildProcess;
  output: ChildOutput;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function startRunner(env: NodeJS.ProcessEnv): Runner {
  const child = spawn(process.execPath, ['packages/runner/src/main.ts'], { cwd: repoRoot, env: { ...process.env, ...env, BATON_LOG_FORMAT: 'json', LOG_LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return { child, output: captureOutput(child), exited };
}

async function waitForReady(runner: Runner, timeoutMs = 120_000): Promise<void> {
  const giveUpAt = performance.now() + timeoutMs;
  while (!runner.output.records.some((r) => r.event === 'baton_ready')) {
    if (runner.child.exitCode !== null) assert.fail(`the runner exited:\n${runner.output.text().slice(-3_000)}`);
    if (performance.now() > giveUpAt) assert.fail('timed out waiting for "Baton is ready"');
    await sleep(50);
  }
}


test('a runner killed with SIGKILL leaves no process and no listening port behind; the next start works, and a second one on the same folder is refused, naming the first', { skip: hasProcFs ? false : 'needs /proc (Linux)', timeout: 240_000 }, async (t) => {
  const varDir = await mkdtemp(join(tmpdir(), 'baton-sigkill-'));
  const portBase = randomPortBase();
  const env = { BATON_VAR_DIR: varDir, BATON_PORT_BASE: String(portBase) };
  const leftovers = new Set<number>();
  addCleanup(t, async () => {
    for (const pid of leftovers) if (isRunning(pid)) process.kill(pid, 'SIGKILL');
    await rm(varDir, { recursive: true, force: true });
  });

  const first = startRunner(env);
  await waitForReady(first);
  const tree = processTree(first.child.pid!);
  tree.forEach(({ pid }) => leftovers.add(pid));
  const commands = tree.map(({ command }) => command).join('\n');
  assert.match(commands, /services\/users\/src\/main\.ts/, commands);
  assert.match(commands, /bin\/postgres -D/, commands);
  const ports = [...[0, 1, 2, 3, 4].flatMap((i) => [portBase + i, portBase + 2000 + i]), portBase + 1001, portBase + 1002, portBase + 352, portBase + 10];
  for (const port of ports) assert.equal(await isListening(port), true, `port ${port} listens while the shop runs`);

  first.child.kill('SIGKILL');
  await first.exited;
  const killedAt = performance.now();
  let running = tree.filter(({ pid }) => isRunning(pid));
  let listening = ports;
  // Each goes within its own 4 s grace (the kit's orphanExitMs, the database's guard); how long
  // that takes on a loaded machine is not this test's claim, so it waits up to 15 s.
  const waitMs = 15_000;
  while (performance.now() - killedAt < waitMs && (running.length > 0 || listening.length > 0)) {
    await sleep(100);
    running = running.filter(({ pid }) => isRunning(pid));
    listening = (await Promise.all(listening.map(async (port) => ((await isListening(port)) ? [port] : [])))).flat();
  }
  assert.deepEqual(running.map(({ pid, command }) => `${pid} ${command}`), [], `no process of the stack runs ${waitMs / 1_000} s after the runner was killed`);
  assert.deepEqual(listening, [], 'no port of the stack listens');

  // The next start finds the folder free (the killed runner's lock names a process that is gone).
  const second = startRunner(env);
  addCleanup(t, async () => {
    if (second.child.exitCode === null) second.child.kill('SIGKILL');
  });
  await waitForReady(second);
  processTree(second.child.pid!).forEach(({ pid }) => leftovers.add(pid));

  // A third on the same folder (other ports, so the lock is what stops it) says who runs there.
  const third = startRunner({ ...env, BATON_PORT_BASE: String(portBase + 20) });
  const thirdExit = await third.exited;
  assert.equal(thirdExit.code, 1);
  const refusal = third.output.records.find((r) => r.event === 'start_failed');
  assert.equal(refusal?.code, 'already_running', third.output.text());
  const said = String(refusal?.msg);
  assert.match(said, new RegExp(`Baton is already running: http://127\\.0\\.0\\.1:${portBase} \\(runner pid ${second.child.pid}, data in ${varDir}`), said);
  assert.match(said, new RegExp(`BATON_VAR_DIR=var-2 BATON_PORT_BASE=${portBase + 10_000} npm start`), 'it says how to run a second shop, on ports clear of the first');

  second.child.kill('SIGINT');
  assert.deepEqual(await second.exited, { code: 0, signal: null });
});
