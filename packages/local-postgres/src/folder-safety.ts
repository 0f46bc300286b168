import { lstat } from 'node:fs/promises';
import type { ServerUser } from './server-user.ts';

/**
 * Checks the folders the server's data goes in before anything is written there. A runner
 * started by root writes and changes owners in them, so a folder another user made, or a
 * symbolic link another user placed where the data folder should be (`/tmp/baton-2/postgres` →
 * `/etc/…`), would let that user have root change files it chose. Refused, with what to do.
 */
export async function assertSafeFolders(parent: string, dataDir: string, user: ServerUser): Promise<void> {
  const me = process.getuid?.();
  const parentStats = await lstat(parent);
  if (parentStats.isSymbolicLink() || !parentStats.isDirectory()) {
    throw new Error(`${parent} is a link or not a folder: Baton keeps its database only in a real folder of its own`);
  }
  if (me !== undefined && parentStats.uid !== me && parentStats.uid !== 0) {
    throw new Error(`${parent} belongs to another user (uid ${parentStats.uid}): Baton keeps its database only in a folder of its own user's; choose another BATON_VAR_DIR`);
  }
  let dataStats;
  try {
    dataStats = await lstat(dataDir);
  } catch {
    // Nothing there yet. In a folder anyone may write in (/tmp), another user could put a link
    // there between this check and its making: refused. (A folder of its own made there first,
    // as mkdtemp does, is fine: nobody else can replace it.)
    if ((parentStats.mode & 0o002) !== 0) {
      throw new Error(`${parent} is a folder anyone may write in: Baton's data goes in a folder of its own there (BATON_VAR_DIR=${parent}/baton, say), not straight in it`);
    }
    return;
  }
  if (dataStats.isSymbolicLink() || !dataStats.isDirectory()) {
    throw new Error(`${dataDir} is a link or not a folder: remove it, and Baton makes its database folder there`);
  }
  const allowed = new Set([me, user.uid, 0].filter((uid) => uid !== undefined));
  if (!allowed.has(dataStats.uid)) {
    const giveItOver = user.uid === undefined ? '' : ` If it is yours (an earlier Baton's), give it over: chown -R ${user.name}: ${dataDir}; else remove it.`;
    throw new Error(`${dataDir} belongs to another user (uid ${dataStats.uid}), not to ${user.name}, who runs Baton's PostgreSQL.${giveItOver}`);
  }
}
