import { execFile } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** What the lock a PostgreSQL server leaves in its data folder says now. */
export type LeftoverServer =
  | { state: 'none' }
  /** A server of this data folder is still running: an earlier runner died without stopping it. */
  | { state: 'running'; pid: number }
  /** The lock names a process that is gone, or one that is not a PostgreSQL of this folder (its pid was reused). */
  | { state: 'stale'; pid: number };

/**
 * Reads `postmaster.pid` and tells whether the server it names is still running. PostgreSQL
 * itself starts over a lock whose process is gone, but refuses one whose pid now belongs to
 * another process (common after a `kill -9` and a reboot, or in a container where pids repeat).
 */
export async function inspectLeftoverServer(dataDir: string): Promise<LeftoverServer> {
  let text: string;
  try {
    text = await readFile(join(dataDir, 'postmaster.pid'), 'utf8');
  } catch {
    return { state: 'none' };
  }
  const pid = Number.parseInt(text.split('\n')[0] ?? '', 10);
  if (!Number.isInteger(pid) || pid <= 0) return { state: 'stale', pid: 0 };
  return (await isPostgresOf(pid, dataDir)) ? { state: 'running', pid } : { state: 'stale', pid };
}

async function isPostgresOf(pid: number, dataDir: string): Promise<boolean> {
  if (!isAlive(pid)) return false;
  let command: string;
  try {
    // Linux: the arguments separated by NUL; elsewhere ps prints them.
    command = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).replaceAll('\0', ' ');
  } catch {
    try {
      command = (await run('ps', ['-o', 'command=', '-p', String(pid)])).stdout;
    } catch {
      return false;
    }
  }
  return /postgres/.test(command) && command.includes(dataDir);
}

/** Whether a process with this pid exists (a zombie counts), whoever's it is. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, under another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Clears what an earlier server of this folder left: a server still running (its runner was
 * killed and could not stop it) gets a fast shutdown, escalated to an immediate one; a stale
 * lock file is removed. Returns what it found, for the caller to say.
 */
export async function clearLeftoverServer(dataDir: string, { waitMs = 10_000 } = {}): Promise<LeftoverServer> {
  const found = await inspectLeftoverServer(dataDir);
  if (found.state === 'stale') await rm(join(dataDir, 'postmaster.pid'), { force: true });
  if (found.state !== 'running') return found;
  // SIGINT is PostgreSQL's fast shutdown (clients are disconnected, a checkpoint is written);
  // SIGQUIT its immediate one (crash recovery at the next start).
  for (const [signal, ms] of [['SIGINT', waitMs], ['SIGQUIT', 2_000], ['SIGKILL', 2_000]] as const) {
    try {
      process.kill(found.pid, signal);
    } catch {
      return found;
    }
    const giveUpAt = performance.now() + ms;
    while (isAlive(found.pid) && performance.now() < giveUpAt) await sleep(50);
    if (!isAlive(found.pid)) return found;
  }
  throw new Error(`a PostgreSQL (pid ${found.pid}) still runs in ${dataDir} and did not stop`);
}
