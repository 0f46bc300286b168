import { createHash } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { giveToServerUser, type ServerUser } from './server-user.ts';

// A socket's path must fit in 108 bytes (sun_path), its name `.s.PGSQL.<port>` included.
const socketPathLimit = 100;

/**
 * Where the server's socket goes: its own data folder (mode 0700, so only its user and root
 * reach it), or, when that path is too long for a socket, a folder of its own under the
 * system's temporary folder, named after the data folder so every start finds the same one.
 */
export async function socketDirFor(dataDir: string, user: ServerUser): Promise<string> {
  if (dataDir.length + '/.s.PGSQL.65535'.length <= socketPathLimit) return dataDir;
  const dir = join(tmpdir(), `baton-pg-${createHash('sha256').update(dataDir).digest('hex').slice(0, 12)}`);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await giveToServerUser(dir, user);
  return dir;
}
