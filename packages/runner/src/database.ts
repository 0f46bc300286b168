import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { guardAgainstOrphaning, prepareServer, provisionDatabases, waitForPostgres, type ServiceDatabase } from '@baton/local-postgres';
import type { BackoffOptions } from './backoff.ts';
import { RunnerError, type ExitInfo } from './errors.ts';
import { runnerLogLine, type Level, type LogLine } from './log-line.ts';
import { isNoise, postgresLogLine } from './postgres-log.ts';
import { localHost } from './ports.ts';
import { createServiceProcess, type ProcessEvent, type ServiceProcess } from './service-process.ts';
import type { ServiceName } from './services.ts';

/** Where the embedded PostgreSQL listens: 352 above the port base, so 8432 (5432's last digits) by default. */
export const postgresPortOffset = 352;

/** The name the embedded server has among the stack's processes and in the log. */
export const postgresName = 'postgres';

export interface StackDatabaseOptions {
  varDir: string;
  portBase: number;
  /** A server of the user's own (a superuser URL): no embedded one is started. */
  adminUrl?: string | undefined;
  /** Put before each service's name for its database and role: `baton_orders`. */
  prefix: string;
  /** The services that get a database and a role: those that keep data. */
  services: readonly ServiceName[];
  onLog?: ((line: LogLine) => void) | undefined;
  onProcessEvent?: ((event: ProcessEvent) => void) | undefined;
  backoff?: BackoffOptions | undefined;
  stopTimeoutMs: number;
}

/** The stack's PostgreSQL: the embedded one, or the user's. */
export interface StackDatabase {
  readonly kind: 'embedded' | 'external';
  /** `postgres://127.0.0.1:8432`: where it is, with no credentials. */
  readonly location: string;
  readonly port: number | undefined;
  /** The embedded server's process, once started: supervised like a service. */
  readonly process: ServiceProcess | undefined;
  /** The superuser's URL (through the socket for the embedded server), once started. */
  readonly adminUrl: string | undefined;
  /** Each service's database, role and URL, once provisioned. */
  readonly services: ReadonlyMap<ServiceName, ServiceDatabase>;
  /**
   * Starts the embedded server (initdb on the first start) and waits until it answers, then
   * gives every service its database and role. Resolves when all are there.
   */
  start(options: { timeoutMs: number; signal?: AbortSignal | undefined }): Promise<void>;
  /**
   * Stops the embedded server (fast shutdown), after a start in progress has given up; nothing
   * for a server of the user's. Resolves with how it exited, if it ran.
   */
  stop(): Promise<ExitInfo | undefined>;
}

/**
 * The database side of a stack. Embedded by default: one real PostgreSQL in `<var>/postgres`,
 * its programs from an npm package, supervised like the services (restarted with backoff after
 * a crash, stopped last). With an admin URL, the user's own server. Either way every service
 * it is given (those that keep data: the gateway keeps none) gets a database and a role of its
 * own, and its own `DATABASE_URL`.
 */
export function createStackDatabase(options: StackDatabaseOptions): StackDatabase {
  const { varDir, portBase, adminUrl: userAdminUrl, prefix, services, onLog } = options;
  const embedded = userAdminUrl === undefined;
  const port = embedded ? portBase + postgresPortOffset : undefined;
  const log = (level: Level, msg: string, fields: Record<string, unknown>) => onLog?.(runnerLogLine(level, msg, fields));
  let serverProcess: ServiceProcess | undefined;
  let adminUrl = userAdminUrl;
  let starting: Promise<void> | undefined;
  let stopped = false;
  const provisioned = new Map<ServiceName, ServiceDatabase>();

  async function startEmbedded({ timeoutMs, signal }: { timeoutMs: number; signal?: AbortSignal | undefined }): Promise<string> {
    const dataDir = join(varDir, postgresName);
    const server = await prepareServer({
      dataDir,
      port: port!,
      onProgress: (message) => log('info', message, { event: 'database_creating', data_dir: dataDir }),
    });
    if (stopped) throw new RunnerError('stopped', 'the stack stopped while its database was being prepared');
    await reportOldEmbeddedData();
    if (server.leftover.state === 'running') {
      log('warn', `stopped a PostgreSQL (pid ${server.leftover.pid}) that an earlier Baton left running in ${dataDir}`, { event: 'database_leftover_stopped', pid: server.leftover.pid });
    }
    serverProcess = createServiceProcess({
      name: postgresName,
      command: server.command,
      args: server.args,
      cwd: varDir,
      env: server.env,
      ...server.identity,
      waitUntilReady: (readySignal) => waitForPostgres(server.adminUrl, { signal: readySignal }),
      onLog: onLog === undefined ? undefined : (line) => {
        const parsed = postgresLogLine(line);
        if (!isNoise(parsed)) onLog(parsed);
      },
      onEvent: options.onProcessEvent,
      backoff: options.backoff,
      stopTimeoutMs: options.stopTimeoutMs,
      // Fast shutdown: clients are disconnected rather than waited for.
      stopSignal: 'SIGINT',
      // SIGHUP reloads its settings; SIGUSR1 and SIGUSR2 are its own business.
      survives: ['SIGHUP', 'SIGUSR1', 'SIGUSR2'],
      orphanPolicy: { guard: (child) => guardAgainstOrphaning(child, { signal: 'SIGINT', ...server.identity }) },
    });
    await serverProcess.start();
    await serverProcess.waitReady({ timeoutMs, signal });
    return server.adminUrl;
  }

  // Until December 2026 each service kept its data in a PGlite database under <var>/<service>.
  // Nothing reads those any more; an upgraded user is told rather than left wondering where
  // their accounts went.
  async function reportOldEmbeddedData(): Promise<void> {
    const found: string[] = [];
    for (const name of services) {
      try {
        await access(join(varDir, name, 'PG_VERSION'));
        found.push(join(varDir, name));
      } catch {
        // None: the usual case.
      }
    }
    if (found.length === 0) return;
    log('warn', `${found.join(', ')} ${found.length === 1 ? 'holds a database' : 'hold databases'} of an earlier Baton (PGlite), no longer used: ` +
      `every service now keeps its data in ${join(varDir, postgresName)}. Delete ${found.length === 1 ? 'it' : 'them'} to free the space.`, {
      event: 'old_data_unused', folders: found,
    });
  }

  return {
    kind: embedded ? 'embedded' : 'external',
    location: embedded ? `postgres://${localHost}:${port}` : describeServer(userAdminUrl),
    port,
    get process() { return serverProcess; },
    get adminUrl() { return adminUrl; },
    services: provisioned,
    start(options) {
      starting = start(options);
      return starting;
    },
    async stop() {
      stopped = true;
      await starting?.catch(() => {});
      return serverProcess?.stop();
    },
  };

  async function start({ timeoutMs, signal }: { timeoutMs: number; signal?: AbortSignal | undefined }): Promise<void> {
    if (embedded) adminUrl = await startEmbedded({ timeoutMs, signal });
    const databases = await provisionDatabases({
      adminUrl: adminUrl!,
      services,
      prefix,
      // The embedded server's superuser comes through the socket; services connect over TCP.
      serviceUrlBase: embedded ? `postgres://${localHost}:${port}` : undefined,
      signal,
    });
    for (const database of databases) provisioned.set(database.service as ServiceName, database);
    const created = databases.filter((database) => database.created.database).map((database) => database.database);
    log('info', created.length > 0
      ? `created ${created.join(', ')} on ${embedded ? 'the embedded PostgreSQL' : describeServer(adminUrl!)}, each with its own role`
      : `a database and a role for each service that keeps data on ${embedded ? 'the embedded PostgreSQL' : describeServer(adminUrl!)}`, {
      event: 'databases_ready', created, databases: databases.map((database) => database.database),
    });
  }
}

/** `postgres://host:port/db` of a URL, never its user or password. */
function describeServer(url: string): string {
  try {
    const parsed = new URL(url);
    const socket = parsed.searchParams.get('host');
    return `postgres://${socket ?? parsed.hostname}${parsed.port ? `:${parsed.port}` : ''}${parsed.pathname}`;
  } catch {
    return '(an unparsable BATON_DATABASE_URL)';
  }
}
