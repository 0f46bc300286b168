import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { request } from 'undici';
import type { Check, RunnerHandle, StackHandle } from '@baton/chaos';
import { isListening, isRunning, processTree, type TreeProcess } from '@baton/kit/testing';
import { adminPortOf, adminTokenVariableOf, portOf, randomPortBase, repoRoot, serviceNames } from '@baton/runner';

const run = promisify(execFile);
// How long the runner's processes have to notice it is gone and exit (a service's own bound is 4 s).
const leaveBoundMs = 10_000;

export interface RunnerShop {
  /** The shop as a scenario sees it, over the runner's ports and the admin tokens given to it. */
  handle: StackHandle;
  runner: RunnerHandle;
  varDir: string;
  stop(): Promise<void>;
}

/**
 * The whole shop as a user runs it: `npm start`'s runner (packages/runner/src/main.ts) a process
 * of its own, on a folder and ports of its own, so that the runner itself can be killed. Its
 * lines go to `logFile`. Linux only: what a killed runner left is read from /proc and `ss`.
 */
export async function startRunnerShop({ varDir, logFile, env, startTimeoutMs }: { varDir: string; logFile: string; env: NodeJS.ProcessEnv; startTimeoutMs: number }): Promise<RunnerShop> {
  const log = createWriteStream(logFile, { flags: 'a', mode: 0o600 });
  const portBase = randomPortBase();
  // Admin tokens of its own, so the scenario can read each service's counters and dead letters.
  const adminTokens = Object.fromEntries(serviceNames.map((name) => [name, randomBytes(32).toString('base64url')]));
  const runnerEnv: NodeJS.ProcessEnv = {
    ...env, BATON_VAR_DIR: varDir, BATON_PORT_BASE: String(portBase), BATON_LOG_FORMAT: 'json', LOG_LEVEL: 'warn',
    ...Object.fromEntries(serviceNames.map((name) => [adminTokenVariableOf(name), adminTokens[name]])),
  };
  const url = (name: string) => `http://127.0.0.1:${portOf(name as never, portBase)}`;
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();

  async function waitReady(name: string, { timeoutMs = startTimeoutMs }: { timeoutMs?: number } = {}): Promise<void> {
    const giveUpAt = performance.now() + timeoutMs;
    for (;;) {
      const ready = await request(new URL('/readyz', url(name)), { signal: AbortSignal.timeout(2_000) })
        .then(async (answer) => { await answer.body.dump(); return answer.statusCode === 200; }, () => false);
      if (ready) return;
      if (child?.exitCode !== null && child?.exitCode !== undefined) throw new Error(`npm start exited (${child.exitCode}) before ${name} was ready: see ${logFile}`);
      if (performance.now() > giveUpAt) throw new Error(`${name} was not ready within ${timeoutMs} ms`);
      await sleep(250);
    }
  }

  async function start(timeoutMs: number): Promise<void> {
    const started = spawn(process.execPath, ['packages/runner/src/main.ts'], { cwd: repoRoot, env: runnerEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    started.stdout.pipe(log, { end: false });
    started.stderr.pipe(log, { end: false });
    exited = new Promise((resolve) => started.once('exit', () => resolve()));
    child = started;
    await Promise.all(serviceNames.map((name) => waitReady(name, { timeoutMs })));
  }

  await start(startTimeoutMs);
  const handle: StackHandle = {
    services: serviceNames,
    url,
    adminUrl: (name) => `http://127.0.0.1:${adminPortOf(name as never, portBase)}`,
    adminToken: (name) => adminTokens[name] ?? '',
    status: () => ({ state: child?.exitCode === null ? 'running' : 'exited', pid: undefined, restarts: 0 }),
    kill: () => Promise.reject(new Error('a service of a runner shop is not killed one at a time: kill the runner')),
    waitReady,
  };
  return {
    handle,
    varDir,
    runner: {
      async killHard(): Promise<Check> {
        const runner = child;
        if (runner?.pid === undefined) throw new Error('npm start is not running');
        const tree = processTree(runner.pid);
        const ports = await listeningPorts(tree);
        runner.kill('SIGKILL');
        await exited;
        const killedAt = performance.now();
        let running = tree.filter(({ pid }) => isRunning(pid));
        let held = ports;
        while (performance.now() - killedAt < leaveBoundMs && (running.length > 0 || held.length > 0)) {
          await sleep(100);
          running = running.filter(({ pid }) => isRunning(pid));
          held = (await Promise.all(held.map(async (port) => ((await isListening(port)) ? [port] : [])))).flat();
        }
        const tookMs = performance.now() - killedAt;
        // Whatever is left is killed here, so the next start can go on; the check has failed already.
        for (const { pid } of running) process.kill(pid, 'SIGKILL');
        return {
          name: 'nothing left behind',
          passed: running.length === 0 && held.length === 0 && tree.length > 0 && ports.length > 0,
          detail: running.length === 0 && held.length === 0
            ? `all ${tree.length} processes under the runner exited and their ${ports.length} ports were free ${(tookMs / 1_000).toFixed(1)} s after its SIGKILL (at most ${leaveBoundMs / 1_000} s)`
            : `after ${leaveBoundMs / 1_000} s: ${running.length} of ${tree.length} processes still ran (${running.slice(0, 3).map(({ command }) => command.slice(0, 60)).join('; ')}), ${held.length} of ${ports.length} ports still listened`,
        };
      },
      startAgain: (timeoutMs) => start(timeoutMs),
    },
    async stop() {
      if (child !== undefined && child.exitCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
      await new Promise<void>((resolve) => log.end(resolve));
    },
  };
}

/** The TCP ports the processes listen on, as `ss` (iproute2) lists them with their pids. */
async function listeningPorts(tree: readonly TreeProcess[]): Promise<number[]> {
  const pids = new Set(tree.map(({ pid }) => pid));
  const { stdout } = await run('ss', ['-ltnpH']);
  const ports = new Set<number>();
  for (const line of stdout.split('\n')) {
    const port = Number(/:(\d+)\s/.exec(line)?.[1]);
    if ([...line.matchAll(/pid=(\d+)/g)].some((m) => pids.has(Number(m[1])))) ports.add(port);
  }
  return [...ports];
}

