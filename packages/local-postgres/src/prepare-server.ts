import { chmod, lchown, lstat, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { socketAdminUrl } from './admin-url.ts';
import { findPostgresBinaries } from './binaries.ts';
import { assertSafeFolders } from './folder-safety.ts';
import { prepareCluster } from './cluster.ts';
import { serverArguments, serverSettings, type ServerSettingsOptions } from './server-settings.ts';
import { assertServerUserCanUse, serverEnvironment, serverUser, spawnIdentity, type ServerUser } from './server-user.ts';
import { socketDirFor } from './socket-dir.ts';
import { clearLeftoverServer, type LeftoverServer } from './stale-server.ts';

export interface PrepareServerOptions {
  /** The data folder; created (initdb) when it is not one yet. */
  dataDir: string;
  port: number;
  durability?: ServerSettingsOptions['durability'];
  settings?: ServerSettingsOptions['extra'];
  onProgress?: ((message: string) => void) | undefined;
}

/** Everything needed to start the server, and what preparing it found. */
export interface PreparedServer {
  command: string;
  args: string[];
  /** Spawn options for the server's user: empty unless this process is root. */
  identity: { uid?: number; gid?: number };
  /** The environment to start it with: only what it needs, never this process's secrets. */
  env: NodeJS.ProcessEnv;
  user: ServerUser;
  dataDir: string;
  socketDir: string;
  port: number;
  /** The superuser through the socket: for the runner and the tests, never for a service. */
  adminUrl: string;
  version: string;
  /** True when `initdb` made the data folder just now. */
  created: boolean;
  /** What an earlier server of this folder had left, now cleared. */
  leftover: LeftoverServer;
}

/**
 * Gets a local PostgreSQL ready to start: finds the programs, creates the data folder on the
 * first start, writes who may connect, and clears what a server killed earlier left behind.
 * The caller spawns `command args` (the runner supervises it like a service).
 *
 * @example
 * const server = await prepareServer({ dataDir: 'var/postgres', port: 8432 });
 * spawn(server.command, server.args, { ...server.identity, env: server.env, detached: true });
 */
export async function prepareServer({ dataDir, port, durability, settings, onProgress }: PrepareServerOptions): Promise<PreparedServer> {
  const binaries = await findPostgresBinaries();
  const socketDir = socketDirFor(dataDir);
  const user = await serverUser({ onProgress });
  const parent = dirname(dataDir);
  await mkdir(parent, { recursive: true });
  await assertSafeFolders(parent, dataDir, user);
  if (user.uid !== undefined && user.gid !== undefined) {
    // The server's user must pass through the folder that holds its data folder (a temporary one
    // is 0700): its own group may enter, not list; other users get nothing.
    const parentStats = await lstat(parent);
    if (parentStats.gid !== user.gid) await lchown(parent, parentStats.uid, user.gid);
    if ((parentStats.mode & 0o010) === 0) await chmod(parent, (parentStats.mode & 0o7777) | 0o010);
    await mkdir(dataDir, { mode: 0o700 }).catch((error: unknown) => {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    });
    // Checked again now that it exists: a link made there since is refused, never followed.
    await assertSafeFolders(parent, dataDir, user);
    await lchown(dataDir, user.uid, user.gid);
    await assertServerUserCanUse(dataDir, binaries.postgres, user);
  }
  const { created } = await prepareCluster({ dataDir, binaries, user, onProgress });
  const leftover = await clearLeftoverServer(dataDir);
  const args = serverArguments(dataDir, serverSettings({ port, socketDir, durability, extra: settings }));
  return {
    command: binaries.postgres,
    args,
    identity: spawnIdentity(user),
    env: serverEnvironment(),
    user,
    dataDir,
    socketDir,
    port,
    adminUrl: socketAdminUrl(socketDir, port),
    version: binaries.version,
    created,
    leftover,
  };
}
