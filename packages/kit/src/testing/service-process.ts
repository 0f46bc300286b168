import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import type { TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { captureOutput } from './child-output.ts';
import { addCleanup } from './cleanup.ts';
import { findFreePort } from './free-port.ts';

export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** performance.now() when the process exited. */
  at: number;
}

export interface FixtureServiceProcess {
  child: ChildProcess;
  port: number;
  adminPort: number;
  /** `http://127.0.0.1:<port>` */
  base: string;
  exited: Promise<ProcessExit>;
  /** Its JSON log lines as they arrive (while its stdout is read). */
  lines: Array<Record<string, unknown>>;
  /** stdout and stderr as they came, for a failure message. */
  output(): string;
  /** Resolves once `/readyz` answers 200; fails if the process exits or 60 s pass first. */
  ready(): Promise<void>;
  /** Resolves with the first log line with this message (and, given `where`, that passes it); fails if 30 s pass first. */
  logged(msg: string, where?: (line: Record<string, unknown>) => boolean): Promise<Record<string, unknown>>;
}

/**
 * Runs a fixture service (`fixture-services.ts`) as its own process, with stdout and stderr
 * piped to the test, on free ports, without load shedding unless `environment` says otherwise,
 * and kills it after the test if it is still running.
 */
export async function spawnFixtureService(t: TestContext, fixture: string, environment: Record<string, string> = {}): Promise<FixtureServiceProcess> {
  const port = await findFreePort();
  const adminPort = await findFreePort();
  const child = spawn(process.execPath, [fixture], {
    env: {
      PATH: process.env.PATH ?? '',
      HOST: '127.0.0.1',
      PORT: String(port),
      ADMIN_PORT: String(adminPort),
      // A hundred requests at once would be shed by the adaptive limit; shedding is not under test.
      LOAD_SHEDDING: 'false',
      ...environment,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const { records: lines, text: output } = captureOutput(child);
  const exited = new Promise<ProcessExit>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal, at: performance.now() }));
  });
  addCleanup(t, async function stopChild() {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
  });
  const base = `http://127.0.0.1:${port}`;

  async function ready(): Promise<void> {
    const giveUpAt = performance.now() + 60_000;
    while (performance.now() < giveUpAt) {
      if (child.exitCode !== null) assert.fail(`the service exited with ${child.exitCode} before it was ready:\n${output()}`);
      try {
        const response = await fetch(`${base}/readyz`, { signal: AbortSignal.timeout(2_000) });
        await response.body?.cancel();
        if (response.status === 200) return;
      } catch {
        // Not listening yet.
      }
      await sleep(50);
    }
    assert.fail(`the service was not ready within 60 s:\n${output()}`);
  }

  async function logged(msg: string, where: (line: Record<string, unknown>) => boolean = () => true): Promise<Record<string, unknown>> {
    const giveUpAt = performance.now() + 30_000;
    for (;;) {
      const line = lines.find((candidate) => candidate.msg === msg && where(candidate));
      if (line !== undefined) return line;
      if (performance.now() > giveUpAt) assert.fail(`no "${msg}" log line within 30 s:\n${output()}`);
      await sleep(10);
    }
  }

  return { child, port, adminPort, base, exited, lines, output, ready, logged };
}
