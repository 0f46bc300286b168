import { spawn, type ChildProcess } from 'node:child_process';
import { access } from 'node:fs/promises';
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { addCleanup } from './cleanup.ts';
import { findFreePort } from './free-port.ts';
import type { TestHooks } from './postgres.ts';
import { createTempDir } from './temp-dir.ts';

export interface PrivateNatsServer {
  url: string;
  /** Stops the server (SIGTERM) and waits for it to exit; its store stays. */
  stop(): Promise<void>;
  /** Starts it again on the same port and store, and waits until it accepts connections. */
  start(): Promise<void>;
}

const binary = process.env.TEST_NATS_SERVER || '/usr/sbin/nats-server';

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => { socket.destroy(); resolve(true); });
    socket.once('error', () => resolve(false));
  });
}

/**
 * A nats-server of the test's own, with JetStream and a store in a temporary directory, for a
 * test that stops the broker: the shared server must stay untouched. Skipped when the binary
 * is missing, unless CI=true.
 */
export async function startNatsServer(t: TestHooks, { required = process.env.CI === 'true' } = {}): Promise<PrivateNatsServer | undefined> {
  try {
    await access(binary);
  } catch {
    if (required) throw new Error(`${binary} is missing, and CI=true requires it`);
    t.skip(`${binary} is missing — skipped (set CI=true to require it)`);
    return undefined;
  }
  const store = await createTempDir(t, 'baton-nats-');
  const port = await findFreePort();
  let child: ChildProcess | undefined;

  async function start(): Promise<void> {
    const started = spawn(binary, ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', store], { stdio: 'ignore' });
    child = started;
    for (let i = 0; i < 200; i++) {
      if (started.exitCode !== null) throw new Error(`nats-server exited with ${started.exitCode}`);
      if (await portOpen(port)) return;
      await sleep(50);
    }
    throw new Error('nats-server did not start listening within 10 s');
  }

  async function stop(): Promise<void> {
    const running = child;
    child = undefined;
    if (running === undefined || running.exitCode !== null) return;
    const exited = new Promise((resolve) => running.once('exit', resolve));
    running.kill('SIGTERM');
    await exited;
  }

  await start();
  addCleanup(t, stop);
  return { url: `nats://127.0.0.1:${port}`, stop, start };
}
