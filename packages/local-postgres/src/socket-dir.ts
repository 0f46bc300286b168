// A socket's path must fit in 108 bytes (sun_path), its name `.s.PGSQL.<port>` included.
const socketPathLimit = 100;

/**
 * Where the server's socket goes: its own data folder (mode 0700, so only its user and root
 * reach it). A data folder whose path is too long for a socket is refused with what to do: a
 * folder elsewhere (the system's temporary folder) could be prepared by another user.
 */
export function socketDirFor(dataDir: string): string {
  const bytes = Buffer.byteLength(dataDir);
  if (bytes + '/.s.PGSQL.65535'.length <= socketPathLimit) return dataDir;
  throw new Error(`${dataDir} is too long a path for PostgreSQL's socket (${bytes} bytes, at most ${socketPathLimit - '/.s.PGSQL.65535'.length}): ` +
    'choose a shorter BATON_VAR_DIR');
}
