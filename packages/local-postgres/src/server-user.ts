import { execFile } from 'node:child_process';
import { lchown, lstat, readdir } from 'node:fs/promises';
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

/** The system user Baton's PostgreSQL runs as under root: its own, shared with nothing else. */
export const dedicatedUser = 'baton-postgres';

/**
 * PostgreSQL refuses to run as root. Under root (a container, a CI machine) it runs as a system
 * user of its own, `baton-postgres`, made the first time (`useradd --system`, no home, no
 * shell); not the machine's `postgres` user, whose other servers would then share its files
 * and its rights. Only where no user can be made, as `nobody`. Otherwise it runs as whoever
 * runs Baton. `onProgress` hears when a user is made.
 */
export async function serverUser({ onProgress }: { onProgress?: ((message: string) => void) | undefined } = {}): Promise<ServerUser> {
  if (process.getuid?.() !== 0) return { name: 'the current user' };
  const existing = await lookUp(dedicatedUser);
  if (existing !== undefined) return existing;
  try {
    await run('useradd', ['--system', '--user-group', '--no-create-home', '--home-dir', '/nonexistent', '--shell', '/usr/sbin/nologin', '--comment', 'Baton embedded PostgreSQL', dedicatedUser]);
    onProgress?.(`made the system user ${dedicatedUser} to run PostgreSQL, which refuses to run as root`);
  } catch {
    // Another process made it a moment ago, or this machine cannot make users (no useradd).
  }
  const made = (await lookUp(dedicatedUser)) ?? (await lookUp('nobody'));
  if (made === undefined) throw new Error(`PostgreSQL will not run as root, and neither ${dedicatedUser} (useradd failed) nor nobody exists to run it as`);
  return made;
}

async function lookUp(name: string): Promise<ServerUser | undefined> {
  try {
    const [uid, gid] = await Promise.all([idOf(name, '-u'), idOf(name, '-g')]);
    return { name, uid, gid };
  } catch {
    return undefined;
  }
}

async function idOf(name: string, flag: '-u' | '-g'): Promise<number> {
  const { stdout } = await run('id', [flag, name]);
  return Number.parseInt(stdout.trim(), 10);
}

/** Options for spawning a process as the server's user. */
export function spawnIdentity(user: ServerUser): { uid?: number; gid?: number } {
  return user.uid === undefined ? {} : { uid: user.uid, ...(user.gid === undefined ? {} : { gid: user.gid }) };
}

/**
 * Gives a folder, and everything in it, to the server's user (a no-op when that is this
 * process's user). Links are given as links (lchown), never followed.
 */
export async function giveToServerUser(path: string, user: ServerUser): Promise<void> {
  if (user.uid === undefined || user.gid === undefined) return;
  const { uid, gid } = user;
  async function walk(target: string): Promise<void> {
    const stats = await lstat(target);
    if (stats.uid !== uid || stats.gid !== gid) await lchown(target, uid, gid);
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
