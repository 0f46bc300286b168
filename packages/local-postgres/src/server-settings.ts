/** How the server is told to run: on the command line, so every start says it and no file drifts. */
export interface ServerSettingsOptions {
  port: number;
  /** Where its socket is: a folder of its own, mode 0700. */
  socketDir: string;
  /**
   * Durable (the default) or fast: a throw-away server for tests does not wait for the disk,
   * since a crash loses nothing anyone needs.
   */
  durability?: 'durable' | 'throwaway';
  /** More `name=value` settings, applied last. */
  extra?: Readonly<Record<string, string>>;
}

/**
 * The `-c name=value` arguments of a local server. Small on purpose: the shop's data fits in a
 * few megabytes, and the server shares two cores and the memory with six Node processes.
 */
export function serverSettings({ port, socketDir, durability = 'durable', extra = {} }: ServerSettingsOptions): Record<string, string> {
  return {
    listen_addresses: '127.0.0.1',
    port: String(port),
    unix_socket_directories: socketDir,
    unix_socket_permissions: '0700',
    // Five services with pools of five (DATABASE_POOL_MAX), cancel requests and the runner fit in 100.
    max_connections: '100',
    shared_buffers: '32MB',
    // One I/O worker is plenty for a shop's few megabytes (PostgreSQL 18 starts three), and no
    // logical replication: two server processes fewer.
    io_workers: '1',
    max_logical_replication_workers: '0',
    huge_pages: 'off',
    // A dev server writes its log to its standard error, which the runner reads; routine lines
    // (checkpoints) stay out. The runner parses this prefix, SQLSTATE included
    // (packages/runner/src/postgres-log.ts).
    logging_collector: 'off',
    log_checkpoints: 'off',
    log_line_prefix: '%m [%p] %e %q%u@%d ',
    log_timezone: 'UTC',
    // Not synchronous_commit: code under test sets it per transaction and checks the default.
    ...(durability === 'throwaway' ? { fsync: 'off', full_page_writes: 'off' } : {}),
    ...extra,
  };
}

/** `postgres -D <dir> -c a=b -c c=d`: the arguments after the program's name. */
export function serverArguments(dataDir: string, settings: Readonly<Record<string, string>>): string[] {
  return ['-D', dataDir, ...Object.entries(settings).flatMap(([name, value]) => ['-c', `${name}=${value}`])];
}
