import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { RunnerError } from './errors.ts';
import type { LogLine } from './log-line.ts';
import { createServiceProcess, type ProcessEvent, type ServiceProcessOptions } from './service-process.ts';

// Tiny stand-ins for services, so the supervisor's rules are tested in milliseconds.
function fakeService(script: string, options: Partial<ServiceProcessOptions> = {}) {
  const events: ProcessEvent[] = [];
  const lines: LogLine[] = [];
  const proc = createServiceProcess({
    name: 'fake',
    command: process.execPath,
    args: ['-e', script],
    cwd: process.cwd(),
    env: process.env,
    // Ready a moment after it starts, unless it exits first.
    waitUntilReady: (signal) => sleep(50, undefined, { signal }),
    onEvent: (event) => events.push(event),
    onLog: (line) => lines.push(line),
    backoff: { initialDelayMs: 20, maxDelayMs: 40 },
    ...options,
  });
  return { proc, events, lines };
}

async function waitFor(what: string, condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

const exitsOf = (events: ProcessEvent[]) => events.filter((e) => e.type === 'exited');
const spawnsOf = (events: ProcessEvent[]) => events.filter((e) => e.type === 'spawned');

test('a process that keeps crashing is restarted with a growing delay, until it is stopped', async (t) => {
  const { proc, events } = fakeService('setTimeout(() => process.exit(1), 30)');
  t.after(() => proc.stop());
  await proc.start();
  await waitFor('three crashes', () => exitsOf(events).length >= 3);
  await proc.stop();
  const crashes = exitsOf(events).slice(0, 3);
  assert.deepEqual(crashes.map((e) => e.outcome), ['restarting', 'restarting', 'restarting']);
  assert.deepEqual(crashes.map((e) => e.outcome === 'restarting' && e.restartInMs), [20, 40, 40]);
  assert.deepEqual(crashes.map((e) => e.exit.code), [1, 1, 1]);

  const spawnedWhenStopped = spawnsOf(events).length;
  await sleep(200);
  assert.equal(spawnsOf(events).length, spawnedWhenStopped, 'no restart after stop()');
  assert.equal(proc.state, 'stopped');
});

test('exit code 78 is a configuration error: reported, and never restarted', async (t) => {
  const { proc, events } = fakeService('console.log("PORT: expected a TCP port number"); process.exit(78)', {
    // Never ready: on a busy machine a fixed delay could pass before the process has exited.
    waitUntilReady: (signal) => new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error))),
  });
  t.after(() => proc.stop());
  await proc.start();
  const error = await proc.waitReady({ timeoutMs: 10_000 }).then(() => undefined, (e: unknown) => e);
  assert.ok(error instanceof RunnerError, `expected a RunnerError, got ${String(error)}`);
  assert.equal(error.code, 'config_error');
  assert.equal(error.exit?.code, 78);
  assert.match(error.message, /PORT: expected a TCP port number/, 'the error quotes the last lines');
  await sleep(200);
  assert.equal(spawnsOf(events).length, 1, 'started once, never again');
  assert.equal(proc.state, 'failed');
  assert.deepEqual(exitsOf(events).map((e) => e.outcome), ['fatal']);
});

test('a killed process comes back and is ready again, as a new process', async (t) => {
  const { proc } = fakeService('setInterval(() => {}, 1000)');
  t.after(() => proc.stop());
  await proc.start();
  await proc.waitReady({ timeoutMs: 10_000 });
  const firstPid = proc.pid;
  const exit = await proc.kill('SIGKILL');
  assert.equal(exit?.signal, 'SIGKILL');
  await proc.waitReady({ timeoutMs: 10_000 });
  assert.notEqual(proc.pid, firstPid);
  assert.equal(proc.restarts, 1);
  const stopped = await proc.stop();
  assert.equal(stopped?.signal, 'SIGTERM', 'this stand-in has no SIGTERM handler');
});

test('a process that ignores SIGTERM is killed when the stop timeout runs out', async (t) => {
  const { proc, events, lines } = fakeService('process.on("SIGTERM", () => {}); console.log("up"); setInterval(() => {}, 1000)', { stopTimeoutMs: 300 });
  t.after(() => proc.kill('SIGKILL', { restart: false }));
  await proc.start();
  await waitFor('the SIGTERM handler', () => lines.some((line) => line.text === 'up'));
  const startedAt = performance.now();
  const exit = await proc.stop();
  assert.equal(exit?.signal, 'SIGKILL');
  assert.ok(performance.now() - startedAt >= 290, 'it was given the whole timeout first');
  assert.ok(events.some((e) => e.type === 'stop-timeout'));
});
