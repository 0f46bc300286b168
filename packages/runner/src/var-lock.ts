import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { link, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isAlive } from '@baton/local-postgres';

/** What a running stack writes in its data folder's lock: who it is and where it answers. */
export interface VarLockOwner {
  pid: number;
  /** When that process started (Linux: clock ticks since boot), so a pid given to another process since is told apart. */
  pidStartedAt?: number | undefined;
  /** The public entry, e.g. `http://127.0.0.1:8080`. */
  url: string;
  portBase: number;
  startedAt: string;
}

/** The lock a stack holds on its data folder while it runs; `release()` is safe to call twice. */
export interface VarLock {
  release(): Promise<void>;
}

export type AcquireResult = { ok: true; lock: VarLock } | { ok: false; owner: VarLockOwner };

const lockName = 'baton.lock';

/**
 * Takes the data folder for one stack. Two stacks on one folder would share one database
 * server's files and each other's mail, and disagree about everything; so the second is refused,
 * told who holds the folder. The lock is a file linked into place whole (the link fails when it
 * exists); one whose process is gone (a runner killed with SIGKILL) is taken over.
 *
 * @example
 * const taken = await acquireVarLock(varDir, { pid: process.pid, url, portBase, startedAt });
 * if (!taken.ok) throw new Error(`already running: ${taken.owner.url}`);
 */
export async function acquireVarLock(varDir: string, owner: VarLockOwner): Promise<AcquireResult> {
  await mkdir(varDir, { recursive: true });
  const path = join(varDir, lockName);
  for (let attempt = 0; attempt < 3; attempt += 1) {
    // The token tells this lock from another stack's in the same process (tests start several).
    const token = randomUUID();
    // Written whole beside it, then linked into place (link fails if the lock exists): another
    // runner never reads a lock half written, and takes it for a broken one.
    const draft = `${path}.${token}`;
    await writeFile(draft, `${JSON.stringify({ ...owner, pidStartedAt: owner.pidStartedAt ?? startTimeOf(owner.pid), token })}\n`, { mode: 0o600, flag: 'wx' });
    try {
      await link(draft, path);
      return { ok: true, lock: { release: () => releaseIfOurs(path, token) } };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    } finally {
      await rm(draft, { force: true });
    }
    const current = await readOwner(path);
    if (current !== undefined && isSameProcess(current)) return { ok: false, owner: current };
    // Its process is gone (or the file is unreadable, half written by one that died): take it.
    await rm(path, { force: true });
  }
  throw new Error(`could not take ${path}: another process keeps making it`);
}

/** The stack that holds `varDir` now, if its runner is still alive: to say so before starting anything. */
export async function runningStackIn(varDir: string): Promise<VarLockOwner | undefined> {
  const owner = await readOwner(join(varDir, lockName));
  return owner !== undefined && isSameProcess(owner) ? owner : undefined;
}

async function readOwner(path: string): Promise<(VarLockOwner & { token?: string }) | undefined> {
  try {
    const owner = JSON.parse(await readFile(path, 'utf8')) as VarLockOwner & { token?: string };
    return typeof owner.pid === 'number' ? owner : undefined;
  } catch {
    return undefined;
  }
}

async function releaseIfOurs(path: string, token: string): Promise<void> {
  if ((await readOwner(path))?.token === token) await rm(path, { force: true });
}

/**
 * Whether the process the lock names still runs: alive, and (where Linux says when a process
 * started) started when the lock says. A runner killed long ago may have left its pid to another
 * program, which must not keep the folder locked.
 */
function isSameProcess(owner: VarLockOwner): boolean {
  if (!isAlive(owner.pid)) return false;
  const startedAt = startTimeOf(owner.pid);
  return owner.pidStartedAt === undefined || startedAt === undefined || startedAt === owner.pidStartedAt;
}

/** A process's start time from /proc/<pid>/stat (field 22, clock ticks since boot); undefined off Linux. */
function startTimeOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const value = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
    return Number.isFinite(value) ? value : undefined;
  } catch {
    return undefined;
  }
}
