import { randomBytes } from 'node:crypto';
import { chmod, lstat, mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** The folder of the secrets the runner makes for development, under the var dir. */
export const secretsFolder = 'secrets';

/**
 * Makes the stack's data folder private to the user who runs it: the folder 0700 (0710 when
 * PostgreSQL runs as a user of its own, whose group may pass through to its data folder and do
 * nothing else), and everything already in it that this user owns 0700 (folders) or 0600
 * (files), for a var/ left by an earlier Baton made with looser modes. What another user owns
 * (the embedded PostgreSQL's data folder under root, private to it already) is neither entered
 * nor changed: a walk through a folder another user controls could be led elsewhere by a link.
 * Links are never followed. New files are private too: the runner sets its umask to 077, which
 * the services and PostgreSQL it starts inherit.
 */
export async function secureVarDir(varDir: string): Promise<void> {
  process.umask(0o077);
  await mkdir(varDir, { recursive: true, mode: 0o700 });
  const me = process.getuid?.();
  // local-postgres adds group search for its server's own group, under root, when it starts.
  await chmod(varDir, 0o700);
  await tighten(varDir, me);
}

async function tighten(folder: string, me: number | undefined): Promise<void> {
  for (const entry of await readdir(folder, { withFileTypes: true })) {
    const path = join(folder, entry.name);
    const stats = await lstat(path);
    if (stats.isSymbolicLink() || (me !== undefined && stats.uid !== me)) continue;
    if (stats.isDirectory()) {
      await chmod(path, 0o700);
      await tighten(path, me);
    } else if (stats.isFile()) {
      await chmod(path, 0o600);
    }
  }
}

/**
 * A development secret: 32 random bytes, base64, in `<var>/secrets/<name>` (0600, in a 0700
 * folder), made the first time and kept, so what it encrypts (the token signing keys) still
 * opens after a restart. Returns its path. Only for `npm start`: a deployment gives the
 * services their secrets itself (a Kubernetes Secret, say).
 */
export async function developmentSecret(varDir: string, name: string): Promise<string> {
  const folder = join(varDir, secretsFolder);
  await mkdir(folder, { recursive: true, mode: 0o700 });
  await chmod(folder, 0o700);
  const path = join(folder, name);
  try {
    await writeFile(path, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  const stats = await lstat(path);
  if (!stats.isFile()) throw new Error(`${path} is not a file: remove it, and Baton makes a new secret there`);
  await chmod(path, 0o600);
  return path;
}
