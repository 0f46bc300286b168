import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { access, chmod, mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { PostgresBinaries } from './binaries.ts';
import { giveToServerUser, serverEnvironment, spawnIdentity, type ServerUser } from './server-user.ts';

const run = promisify(execFile);

/** The superuser `initdb` creates; it can sign in only through the server's own socket folder. */
export const superuser = 'postgres';

/**
 * Who may connect, and how. The socket's folder is mode 0700, so only the server's operating
 * system user (and root) can reach it: the runner and the tests sign in there as the superuser
 * without a password. Over TCP every role needs its password (SCRAM), and `sameuser` lets a
 * role open only the database of its own name: a service's role reaches its own data and no
 * other service's.
 */
const hostBasedAccess = `# Written by Baton (packages/local-postgres/src/cluster.ts) at every start; edits are lost.
# TYPE  DATABASE  USER  ADDRESS       METHOD
local   all       all                 trust
host    sameuser  all   127.0.0.1/32  scram-sha-256
`;

export interface ClusterOptions {
  dataDir: string;
  binaries: PostgresBinaries;
  user: ServerUser;
  /** Told before a slow first-time step (initdb), so a person sees why the first start takes longer. */
  onProgress?: ((message: string) => void) | undefined;
}

/**
 * Makes `dataDir` a PostgreSQL data folder if it is not one yet (`initdb`), and writes who may
 * connect. Returns whether it was created now.
 */
export async function prepareCluster({ dataDir, binaries, user, onProgress }: ClusterOptions): Promise<{ created: boolean }> {
  const created = !(await isCluster(dataDir));
  if (created) {
    onProgress?.(`creating a PostgreSQL ${binaries.version} database cluster in ${dataDir} (first start only)`);
    // Under root, prepare-server.ts has made it and given it to the server's user already.
    await mkdir(dataDir, { recursive: true, mode: 0o700 });
    try {
      await run(binaries.initdb, [
        `--pgdata=${dataDir}`,
        `--username=${superuser}`,
        '--auth-local=trust',
        '--auth-host=scram-sha-256',
        '--encoding=UTF8',
        // The C locale: the same sort order on every machine, and no dependence on the locales installed.
        '--no-locale',
        '--no-instructions',
      ], { ...spawnIdentity(user), env: serverEnvironment() });
    } catch (error) {
      const stderr = (error as { stderr?: string }).stderr?.trim();
      throw new Error(`initdb failed in ${dataDir}${stderr ? `: ${stderr}` : ''}`, { cause: error });
    }
  }
  // Written beside and renamed over: the folder belongs to the server's user, who could have put
  // a link where the file was, and a root runner must not write through it.
  const hba = join(dataDir, 'pg_hba.conf');
  const fresh = join(dataDir, `.pg_hba.conf.${randomBytes(6).toString('hex')}`);
  await writeFile(fresh, hostBasedAccess, { mode: 0o600, flag: 'wx' });
  await giveToServerUser(fresh, user);
  await rename(fresh, hba);
  // PostgreSQL refuses a data folder that others can read.
  await chmod(dataDir, 0o700);
  return { created };
}

async function isCluster(dataDir: string): Promise<boolean> {
  try {
    await access(join(dataDir, 'PG_VERSION'));
    return true;
  } catch {
    return false;
  }
}
