import { execFile } from 'node:child_process';
import { chown, lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The operating-system user the server runs as: this process's own, or an unprivileged one. */
export interface ServerUser {
  name: string;
  /** Set only when the server runs as a user other than this process's (this process is root). */
  uid?: number;
  gid?: number;
}

/**
 * PostgreSQL refuses to run as root. Under root (a container, a CI machine) it runs as the
 * `postgres` user when the machine has one, else as `nobody`; otherwise as whoever runs Baton.
 */
export async function serverUser(): Promise<ServerUser> {
  if (process.getuid?.() !== 0) return { name: 'the current user' };
  for (const name of ['postgres', 'nobody']) {
    try {
      const [uid, gid] = await Promise.all([idOf(name, '-u'), idOf(name, '-g')]);
      return { name, uid, gid };
    } catch {
      // No such user on this machine: try the next.
    }
  }
  throw new Error('PostgreSQL will not run as root, and this machine has neither a postgres nor a nobody user to run it as');
}

async function idOf(name: string, flag: '-u' | '-g'): Promise<number> {
  const { stdout } = await run('id', [flag, name]);
  return Number.parseInt(stdout.trim(), 10);
}

/** Options for spawning a process as the server's user. */
export function spawnIdentity(user: ServerUser): { uid?: number; gid?: number } {
  return user.uid === undefined ? {} : { uid: user.uid, ...(user.gid === undefined ? {} : { gid: user.gid }) };
}

/** Gives a folder, and everything in it, to the server's user (a no-op when that is this process's user). */
export async function giveToServerUser(path: string, user: ServerUser): Promise<void> {
  if (user.uid === undefined || user.gid === undefined) return;
  const { uid, gid } = user;
  async function walk(target: string): Promise<void> {
    const stats = await lstat(target);
    if (stats.uid !== uid || stats.gid !== gid) await chown(target, uid, gid);
    if (stats.isDirectory()) {
      for (const entry of await readdir(target)) await walk(join(target, entry));
    }
  }
  await walk(path);
}

/**
 * Whether the server's user can reach `dir` and write in it: a folder under root's home
 * (`/root/...`, mode 0700) is out of its reach. Checked before starting, so the error says
 * what to do instead of PostgreSQL's "permission denied".
 */
export async function assertServerUserCanUse(dir: string, program: string, user: ServerUser): Promise<void> {
  if (user.uid === undefined) return;
  try {
    await run('sh', ['-c', 'test -w "$1" && test -x "$2"', 'sh', dir, program], spawnIdentity(user));
  } catch {
    throw new Error(
      `PostgreSQL will not run as root, so Baton runs it as the user ${user.name}, who cannot reach ${dir} or ${program} ` +
      '(a folder on the way is closed to other users, like /root). Run Baton as an ordinary user, clone it somewhere other users ' +
      'can read, or use a PostgreSQL server of your own with BATON_DATABASE_URL.',
    );
  }
}
