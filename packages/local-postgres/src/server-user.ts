import { execFile } from 'node:child_process';
import { lchown, lstat } from 'node:fs/promises';
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
 * and its rights, nor `nobody`, whom many daemons share. Otherwise it runs as whoever runs
 * Baton. `onProgress` hears when a user is made.
 */
export async function serverUser({ onProgress }: { onProgress?: ((message: string) => void) | undefined } = {}): Promise<ServerUser> {
  if (process.getuid?.() !== 0) return { name: 'the current user' };
  const existing = await lookUp(dedicatedUser);
  if (existing !== undefined) return existing;
  let failure = '';
  try {
    await run('useradd', ['--system', '--user-group', '--no-create-home', '--home-dir', '/nonexistent', '--shell', '/usr/sbin/nologin', '--comment', 'Baton embedded PostgreSQL', dedicatedUser]);
    onProgress?.(`made the system user ${dedicatedUser} to run PostgreSQL, which refuses to run as root`);
  } catch (error) {
    // Another process made it a moment ago, or this machine cannot make users (no useradd).
    failure = (error as { stderr?: string }).stderr?.trim() || String(error);
  }
  const made = await lookUp(dedicatedUser);
  // Not `nobody`: every daemon that runs as nobody would own the data and reach the superuser.
  if (made === undefined) {
    throw new Error(`PostgreSQL will not run as root, and the user ${dedicatedUser} to run it as could not be made (${failure}). ` +
      'Run Baton as an ordinary user, make that user (useradd --system baton-postgres), or use a server of your own with BATON_DATABASE_URL.');
  }
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

/**
 * The environment PostgreSQL's programs run with: only what they need. Not the runner's own,
 * which may hold secrets (a BATON_DATABASE_URL, tokens) that another user must not see.
 */
export function serverEnvironment(): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C', TZ: 'UTC' };
}

/** Options for spawning a process as the server's user. */
export function spawnIdentity(user: ServerUser): { uid?: number; gid?: number } {
  return user.uid === undefined ? {} : { uid: user.uid, ...(user.gid === undefined ? {} : { gid: user.gid }) };
}

/**
 * Gives one file or folder (not what is inside it) to the server's user; a no-op when that is
 * this process's user. Never follows a link (lchown), and never walks a tree: the server's user
 * owns what is inside its folder and could swap a subfolder for a link between two steps of a
 * walk. Baton gives only what it has just made: the new, empty data folder and one file.
 */
export async function giveToServerUser(path: string, user: ServerUser): Promise<void> {
  if (user.uid === undefined || user.gid === undefined) return;
  const stats = await lstat(path);
  if (stats.uid !== user.uid || stats.gid !== user.gid) await lchown(path, user.uid, user.gid);
}

/**
 * Whether the server's user can reach `dir` and write in it: a folder under root's home
 * (`/root/...`, mode 0700) is out of its reach. Checked before starting, so the error says
 * what to do instead of PostgreSQL's "permission denied".
 */
export async function assertServerUserCanUse(dir: string, program: string, user: ServerUser): Promise<void> {
  if (user.uid === undefined) return;
  try {
    await run('sh', ['-c', 'test -w "$1" && test -x "$2"', 'sh', dir, program], { ...spawnIdentity(user), env: serverEnvironment() });
  } catch {
    throw new Error(
      `PostgreSQL will not run as root, so Baton runs it as the user ${user.name}, who cannot reach ${dir} or ${program} ` +
      '(a folder on the way is closed to other users, like /root). Run Baton as an ordinary user, clone it somewhere other users ' +
      'can read, or use a PostgreSQL server of your own with BATON_DATABASE_URL.',
    );
  }
}
