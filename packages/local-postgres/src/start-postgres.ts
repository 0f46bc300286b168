import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { guardAgainstOrphaning } from './orphan-guard.ts';
import { prepareServer, type PrepareServerOptions } from './prepare-server.ts';
import { waitForPostgres } from './ready.ts';

export interface StartLocalPostgresOptions extends Partial<Pick<PrepareServerOptions, 'durability' | 'settings' | 'onProgress'>> {
  /** Its data folder; a new temporary one (removed when the server stops) if unset. */
  dataDir?: string;
  /** A free port is picked if unset. */
  port?: number;
  /** How long it may take to answer. */
  startTimeoutMs?: number;
}

/** A PostgreSQL server this process started, and stops. */
export interface LocalPostgres {
  /** The superuser through the socket folder (trust: only this machine's user reaches it). */
  adminUrl: string;
  port: number;
  dataDir: string;
  version: string;
  pid: number;
  /** Fast shutdown; removes a temporary data folder. Safe to call twice. */
  stop(): Promise<void>;
}

/**
 * Starts a PostgreSQL of this process's own, for tests and benchmarks: a throw-away one (a new
 * temporary data folder, no waiting for the disk) unless `dataDir` is given. It never keeps this
 * process alive, and if this process ends without calling `stop()`, however it ends, the server
 * stops and its temporary folder goes too (see orphan-guard.ts).
 *
 * `npm start` does not use this: its runner supervises the server like a service.
 *
 * @example
 * const server = await startLocalPostgres();
 * t.after(() => server.stop());
 * const client = new pg.Client(server.adminUrl);
 */
export async function startLocalPostgres({ dataDir, port, durability, settings, onProgress, startTimeoutMs = 60_000 }: StartLocalPostgresOptions = {}): Promise<LocalPostgres> {
  const temporary = dataDir === undefined;
  // A new empty folder of mode 0700 is a data folder initdb accepts (it is given to the server's user).
  const folder = dataDir ?? await mkdtemp(join(tmpdir(), 'baton-pg-'));
  const root = temporary ? folder : undefined;
  try {
    // A free port can be taken by someone else before the server binds it: try a few.
    for (let attempt = 1; ; attempt += 1) {
      const chosen = port ?? await findFreePort();
      try {
        return await launch({ dataDir: folder, port: chosen, durability: durability ?? (temporary ? 'throwaway' : 'durable'), settings, onProgress, startTimeoutMs, removeAfter: root });
      } catch (error) {
        if (port !== undefined || attempt >= 3 || !/could not bind|already in use/i.test(String(error))) throw error;
      }
    }
  } catch (error) {
    if (root !== undefined) await rm(root, { recursive: true, force: true });
    throw error;
  }
}

async function launch({ removeAfter, startTimeoutMs, ...options }: PrepareServerOptions & { startTimeoutMs: number; removeAfter: string | undefined }): Promise<LocalPostgres> {
  const server = await prepareServer(options);
  const child = spawn(server.command, server.args, { ...server.identity, env: server.env, detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
  const guard = guardAgainstOrphaning(child, { signal: 'SIGINT', removeAfter, ...server.identity });
  const lines: string[] = [];
  if (child.stderr) {
    createInterface({ input: child.stderr }).on('line', (line) => {
      lines.push(line);
      if (lines.length > 20) lines.shift();
    });
  }
  const exited = new AbortController();
  const exit = new Promise<void>((resolve) => child.once('close', () => {
    guard.release();
    exited.abort(new Error(`PostgreSQL exited: ${lines.slice(-5).join(' | ') || 'no output'}`));
    resolve();
  }));
  child.once('error', (error) => exited.abort(error));
  try {
    await waitForPostgres(server.adminUrl, { signal: AbortSignal.any([exited.signal, AbortSignal.timeout(startTimeoutMs)]) });
  } catch (error) {
    child.kill('SIGKILL');
    await exit;
    throw error;
  }
  // From here on neither the server nor its log pipe keeps this process alive.
  child.unref();
  (child.stderr as unknown as { unref?: () => void } | null)?.unref?.();
  let stopping: Promise<void> | undefined;
  return {
    adminUrl: server.adminUrl,
    port: server.port,
    dataDir: server.dataDir,
    version: server.version,
    pid: child.pid ?? 0,
    stop() {
      stopping ??= (async () => {
        // Waiting for the exit must keep this process alive again.
        child.ref();
        (child.stderr as unknown as { ref?: () => void } | null)?.ref?.();
        child.kill('SIGINT');
        const killed = sleep(10_000, undefined, { ref: false }).then(() => child.kill('SIGKILL'));
        await Promise.race([exit, killed]);
        await exit;
        if (removeAfter !== undefined) await rm(removeAfter, { recursive: true, force: true });
      })();
      return stopping;
    },
  };
}

function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}
