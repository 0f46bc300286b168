import { randomBytes } from 'node:crypto';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BackoffOptions } from './backoff.ts';
import { createStackDatabase, postgresName, postgresPortOffset, type StackDatabase } from './database.ts';
import { RunnerError, type ExitInfo } from './errors.ts';
import { runnerLogLine, type Level, type LogLine } from './log-line.ts';
import { developmentSecrets, serviceAdminUrl, serviceEnvironment, serviceUrl } from './environment.ts';
import { createStackKeys, type ServiceKeyPair } from './service-keys.ts';
import { randomPortBase } from './port-bases.ts';
import { findPortInUse, secondShopHint } from './ports.ts';
import { eventLog } from './process-events.ts';
import { waitUntilReady } from './readiness.ts';
import { createServiceProcess, type ProcessEvent, type ProcessState, type ServiceProcess } from './service-process.ts';
import { adminPortOf, adminPortOffset, adminTokenVariableOf, grpcPortOf, hasDatabase, isServiceName, lastSlot, portOf, serviceNames, startOrder, stopOrder, type ServiceName } from './services.ts';
import { developmentSecret, secureVarDir } from './var-modes.ts';
import { acquireVarLock, type VarLock, type VarLockOwner } from './var-lock.ts';

/** The repository root: services are started from here, and `var/` lives here by default. */
export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

/** A service, or the embedded PostgreSQL: what the stack supervises. */
export type StackProcessName = ServiceName | typeof postgresName;

export interface StackOptions {
  /** Which services to start; all of them by default. Ports stay the same whichever you pick. */
  services?: readonly ServiceName[];
  /** The first service's port; the others follow in list order (8080 to 8084 by default). */
  portBase?: number;
  /** The stack's data: the embedded PostgreSQL in `<varDir>/postgres`, mail in `<varDir>/mail`. One stack a folder. */
  varDir?: string;
  /**
   * A PostgreSQL server of your own, as a URL of a superuser (or a role with CREATEROLE and
   * CREATEDB): no embedded server is started, and the databases and roles are made there.
   */
  databaseUrl?: string | undefined;
  /** Put before each service's name to name its database and role: `baton_` → `baton_orders`. */
  databasePrefix?: string;
  /**
   * The environment every service inherits, `process.env` by default. `DATABASE_URL` is always
   * replaced: each service gets its own database's URL.
   */
  env?: NodeJS.ProcessEnv;
  /** Variables for one service, applied last (so they can override `PORT` too). */
  serviceEnv?: Partial<Record<ServiceName, NodeJS.ProcessEnv>>;
  /** Every line every service writes, and the runner's own lines (service `runner`). Unset: discarded. */
  onLog?: (line: LogLine) => void;
  /** How long the whole stack, and later one service, may take to become ready. */
  startTimeoutMs?: number;
  /** How long a service may take to exit after SIGTERM before it is killed; above the kit's 10 s drain. */
  stopTimeoutMs?: number;
  backoff?: BackoffOptions;
  /**
   * Key pairs of some services (tests that sign as one); every other service gets one made in
   * memory at this start. Each service is given its own private key and its callers' public keys.
   */
  serviceKeys?: Partial<Record<ServiceName, ServiceKeyPair>>;
}

export interface ServiceStatus {
  name: StackProcessName;
  url: string;
  state: ProcessState;
  pid: number | undefined;
  restarts: number;
  lastExit: ExitInfo | undefined;
}

export interface ShutdownResult {
  /** True when every service that was running exited with code 0 after SIGTERM. */
  clean: boolean;
  /** How each service that was running exited. */
  exits: Partial<Record<ServiceName, ExitInfo>>;
}

export interface StackStopped extends ShutdownResult {
  /** `shutdown`: someone called `shutdown()`. `config_error`: a service exited with 78, so everything stopped. */
  reason: 'shutdown' | 'config_error';
  service?: ServiceName;
}

/**
 * A running shop: one supervised process a service, and the embedded PostgreSQL (`postgres`)
 * unless a server of the user's is used. Every method that takes a name takes `postgres` too.
 */
export interface Stack {
  readonly services: readonly ServiceName[];
  readonly portBase: number;
  readonly varDir: string;
  /** The database server and each service's database, role and URL (once started). */
  readonly database: Pick<StackDatabase, 'kind' | 'location' | 'adminUrl' | 'services'>;
  /**
   * Starts the database, then every service after the services it calls, and resolves once all
   * answer `/readyz` with 200.
   */
  startAll(options?: { signal?: AbortSignal }): Promise<void>;
  /** The service's base URL, e.g. `http://127.0.0.1:8080`. */
  url(name: ServiceName): string;
  /** Where the service's admin listener is (`/metrics`, `/admin/*`), e.g. `http://127.0.0.1:10080`. */
  adminUrl(name: ServiceName): string;
  /**
   * The service's own admin token, for `Authorization: Bearer <token>` on its `/admin/*` routes:
   * random for each stack unless the runner's environment sets `<NAME>_ADMIN_TOKEN` (or
   * `serviceEnv` sets its `ADMIN_TOKEN`).
   */
  adminToken(name: ServiceName): string;
  status(name: StackProcessName): ServiceStatus;
  /** The process's last log lines, oldest first. */
  lastLines(name: StackProcessName): LogLine[];
  /** Starts a stopped process and waits until it is ready. */
  start(name: StackProcessName): Promise<void>;
  /** Stops a process gracefully (SIGTERM; PostgreSQL's fast shutdown); it stays down until `start`. */
  stop(name: StackProcessName): Promise<ExitInfo | undefined>;
  /**
   * Crashes a process: SIGKILL by default, resolving once it has exited. The supervisor restarts
   * it with backoff, unless `restart` is false. SIGSTOP freezes it and SIGCONT thaws it.
   */
  kill(name: StackProcessName, signal?: NodeJS.Signals, options?: { restart?: boolean }): Promise<ExitInfo | undefined>;
  /** Stops a process gracefully, starts it again and waits until it is ready. */
  restart(name: StackProcessName): Promise<void>;
  /** Resolves once the process answers (`/readyz` with 200; a query, for PostgreSQL). */
  waitReady(name: StackProcessName, options?: { timeoutMs?: number }): Promise<void>;
  /** Stops every service, callers before the services they call, then the database. Safe to call twice. */
  shutdown(): Promise<ShutdownResult>;
  /** Settles once the stack has stopped for good, by `shutdown()` or because a service exited with 78. */
  readonly stopped: Promise<StackStopped>;
}

/**
 * Starts the shop, each service its own process, and resolves once every one is ready. If one
 * is not (a configuration error, or no 200 from `/readyz` within `startTimeoutMs`) every
 * process is stopped and it rejects with a RunnerError naming the service and quoting its
 * last log lines.
 *
 * @example
 * const stack = await startStack({ portBase: randomPortBase(), varDir: await mkdtemp(join(tmpdir(), 'baton-')) });
 * t.after(() => stack.shutdown());
 * await fetch(new URL('/v1/products', stack.url('gateway')));
 */
export async function startStack(options: StackOptions & { signal?: AbortSignal } = {}): Promise<Stack> {
  const stack = createStack(options);
  try {
    await stack.startAll(options.signal ? { signal: options.signal } : {});
  } catch (error) {
    await stack.shutdown();
    throw error;
  }
  return stack;
}

/**
 * A stack on a random port base (`randomPortBase`); another, up to three, if one of its ports is
 * taken (checked before anything starts): other stacks on this machine, a test's, a bench's or
 * another checkout's, pick theirs at random from the same range, and a shop that is still
 * shutting down holds its ports a moment longer.
 *
 * @example
 * const stack = await startStackOnFreePorts({ varDir: await mkdtemp(join(tmpdir(), 'baton-')) });
 */
export async function startStackOnFreePorts(options: Omit<StackOptions, 'portBase'> & { signal?: AbortSignal } = {}, choosePortBase: () => number = randomPortBase): Promise<Stack> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startStack({ ...options, portBase: choosePortBase() });
    } catch (error) {
      if (!(error instanceof RunnerError && error.code === 'port_in_use') || attempt === 3) throw error;
    }
  }
}

/** Builds a stack without starting it, for a caller that must be able to stop it while it starts (the CLI). */
export function createStack({
  services = serviceNames,
  portBase = 8080,
  varDir = join(repoRoot, 'var'),
  databaseUrl,
  databasePrefix = 'baton_',
  env = process.env,
  serviceEnv = {},
  onLog,
  startTimeoutMs = 60_000,
  stopTimeoutMs = 15_000,
  backoff,
  serviceKeys,
}: StackOptions = {}): Stack {
  for (const name of services) {
    if (!isServiceName(name)) throw new TypeError(`unknown service ${String(name)}; known: ${serviceNames.join(', ')}`);
  }
  const lastPort = portBase + adminPortOffset + lastSlot;
  if (!Number.isInteger(portBase) || portBase < 1 || lastPort > 65_535) {
    throw new RangeError(`portBase must be a whole number from 1 to ${65_535 - adminPortOffset - lastSlot}`);
  }
  const selected = serviceNames.filter((name) => services.includes(name));
  const keys = createStackKeys(serviceKeys);
  const urlOf = (name: ServiceName) => serviceUrl(name, portBase);
  // Each service its own admin token, for as long as this stack lives (a restarted service keeps it).
  const adminTokens = new Map(selected.map((name) => [name,
    serviceEnv[name]?.ADMIN_TOKEN ?? env[adminTokenVariableOf(name)] ?? randomBytes(32).toString('base64url')]));
  const adminTokenOf = (name: ServiceName) => {
    const token = adminTokens.get(name);
    if (token === undefined) throw new TypeError(`${name} is not part of this stack (${selected.join(', ')})`);
    return token;
  };
  const log = (level: Level, msg: string, fields: Record<string, unknown>) => onLog?.(runnerLogLine(level, msg, fields));

  const database = createStackDatabase({
    varDir,
    portBase,
    adminUrl: databaseUrl,
    prefix: databasePrefix,
    // A stateless service (the gateway) keeps no data: no database or role is made for it.
    services: selected.filter(hasDatabase),
    onLog,
    onProcessEvent: (event) => onProcessEvent(postgresName, database.location, event),
    backoff,
    stopTimeoutMs,
  });

  const processes = new Map<ServiceName, ServiceProcess>(selected.map((name) => [name, createServiceProcess({
    name,
    command: process.execPath,
    args: [join('services', name, 'src', 'main.ts')],
    cwd: repoRoot,
    // Read at every spawn: the database URL exists only once the database is provisioned.
    env: () => serviceEnvironment(name, {
      env,
      portBase,
      varDir,
      adminToken: adminTokenOf(name),
      databaseUrl: database.services.get(name)?.url,
      overrides: serviceEnv[name],
      keys,
    }),
    waitUntilReady: (signal) => waitUntilReady(urlOf(name), { signal }),
    onLog,
    onEvent: (event) => onProcessEvent(name, urlOf(name), event),
    backoff,
    stopTimeoutMs,
    // The kit shuts a service down when this channel closes: the runner is gone.
    orphanPolicy: { ipc: true },
  })]));

  function processOf(name: StackProcessName): ServiceProcess {
    const found = name === postgresName ? database.process : processes.get(name);
    if (found === undefined) {
      throw new TypeError(name === postgresName
        ? 'this stack has no embedded PostgreSQL running (it uses a server of its own, or has not started)'
        : `${name} is not part of this stack (${selected.join(', ')})`);
    }
    return found;
  }

  function onProcessEvent(name: StackProcessName, url: string, event: ProcessEvent): void {
    const { level, msg, fields } = eventLog(name, url, event);
    log(level, msg, fields);
    // A configuration error comes back on every restart: stop the whole stack and say why.
    if (event.type === 'exited' && event.outcome === 'fatal' && name !== postgresName) void stopAll('config_error', name);
  }

  let resolveStopped!: (stopped: StackStopped) => void;
  const stopped = new Promise<StackStopped>((resolve) => { resolveStopped = resolve; });
  let closing: Promise<ShutdownResult> | undefined;
  let varLock: VarLock | undefined;
  // Aborted when the stack stops: a start in progress (initdb, a service not ready yet) gives up.
  const closed = new AbortController();

  function stopAll(reason: StackStopped['reason'], service?: ServiceName): Promise<ShutdownResult> {
    closing ??= (async () => {
      closed.abort(new RunnerError('stopped', 'the stack was stopped'));
      log('info', 'stopping Baton', { event: 'stack_stopping', reason });
      const exits: ShutdownResult['exits'] = {};
      for (const group of stopOrder(selected)) {
        await Promise.all(group.map(async (name) => {
          const exit = await processOf(name).stop();
          if (exit !== undefined) exits[name] = exit;
        }));
      }
      // Last: the services may still write as they drain.
      const databaseExit = await database.stop();
      await varLock?.release();
      const clean = reason === 'shutdown' && Object.values(exits).every((exit) => exit.code === 0) && (databaseExit === undefined || databaseExit.code === 0);
      log(clean ? 'info' : 'warn', clean ? 'Baton stopped' : 'Baton stopped, not cleanly', { event: 'stack_stopped', reason, clean });
      resolveStopped({ reason, clean, exits, ...(service === undefined ? {} : { service }) });
      return { clean, exits };
    })();
    return closing;
  }

  function assertOpen(): void {
    if (closing !== undefined) throw new RunnerError('stopped', 'the stack is stopping or stopped');
  }

  let started = false;
  async function startAll({ signal }: { signal?: AbortSignal } = {}): Promise<void> {
    assertOpen();
    if (started) throw new Error('startAll() was already called');
    started = true;
    const stopping = signal === undefined ? closed.signal : AbortSignal.any([signal, closed.signal]);
    const taken = await acquireVarLock(varDir, { pid: process.pid, url: urlOf(selected[0] ?? 'gateway'), portBase, startedAt: new Date().toISOString() });
    if (!taken.ok) {
      const { owner } = taken;
      throw new RunnerError('already_running', alreadyRunning(varDir, owner));
    }
    varLock = taken.lock;
    // Private before anything is written there: folders 0700, files 0600, and the development secrets made.
    await secureVarDir(varDir);
    for (const name of selected) {
      for (const path of Object.values(developmentSecrets(name, { ...env, ...serviceEnv[name] }, varDir))) await developmentSecret(varDir, basename(path));
    }
    if (closing !== undefined) {
      // Stopped while the folder was being taken: stopAll could not release what it did not hold yet.
      await varLock.release();
      throw new RunnerError('stopped', 'the stack was stopped while it started');
    }
    const ports = [
      ...selected.flatMap((name) => [portOf(name, portBase), grpcPortOf(name, portBase), adminPortOf(name, portBase)].filter((port) => port !== undefined).map((port) => ({ name: name as StackProcessName, port }))),
      ...(database.port === undefined ? [] : [{ name: postgresName as StackProcessName, port: database.port }]),
    ];
    const busy = await findPortInUse(ports.map(({ port }) => port));
    if (busy !== undefined) {
      const owner = ports.find(({ port }) => port === busy)?.name;
      throw new RunnerError('port_in_use', `port ${busy} (for ${owner}) is already in use (by another Baton, or another program). ` +
        `A second shop needs ports and a data folder of its own: ${secondShopHint(portBase)}`, { service: owner });
    }
    assertOpen();
    log('info', `starting ${selected.join(', ')}`, { event: 'stack_starting', port_base: portBase, var_dir: varDir, database: database.location });
    try {
      await database.start({ timeoutMs: startTimeoutMs, signal: stopping });
    } catch (error) {
      if (error instanceof RunnerError) throw error;
      throw new RunnerError('database_error', `the database could not be started: ${(error as Error).message}`, {
        service: postgresName, lastLines: database.process?.lastLines() ?? [], cause: error,
      });
    }
    // Each service after what it calls is ready: nothing it needs is missing in its first seconds.
    for (const group of startOrder(selected)) {
      assertOpen();
      await Promise.all(group.map((name) => processOf(name).start()));
      await Promise.all(group.map((name) => processOf(name).waitReady({ timeoutMs: startTimeoutMs, signal: stopping })));
    }
  }

  return {
    services: selected,
    portBase,
    varDir,
    database,
    startAll,
    url: (name) => {
      if (!isServiceName(name)) throw new TypeError(`unknown service ${String(name)}`);
      return urlOf(name);
    },
    adminUrl: (name) => {
      if (!isServiceName(name)) throw new TypeError(`unknown service ${String(name)}`);
      return serviceAdminUrl(name, portBase);
    },
    adminToken: adminTokenOf,
    status: (name) => {
      const proc = processOf(name);
      const url = name === postgresName ? database.location : urlOf(name);
      return { name, url, state: proc.state, pid: proc.pid, restarts: proc.restarts, lastExit: proc.lastExit };
    },
    lastLines: (name) => processOf(name).lastLines(),
    start: async (name) => {
      assertOpen();
      await processOf(name).start();
      await processOf(name).waitReady({ timeoutMs: startTimeoutMs });
    },
    stop: (name) => processOf(name).stop(),
    kill: (name, signal, options) => processOf(name).kill(signal, options),
    restart: async (name) => {
      assertOpen();
      await processOf(name).stop();
      // The stack may have begun to stop meanwhile: nothing may start after it has.
      assertOpen();
      await processOf(name).start();
      await processOf(name).waitReady({ timeoutMs: startTimeoutMs });
    },
    waitReady: (name, { timeoutMs = startTimeoutMs } = {}) => processOf(name).waitReady({ timeoutMs }),
    shutdown: () => stopAll('shutdown'),
    stopped,
  };
}

/** What a second runner on a folder in use is told: where the first one answers, and how to run another. */
export function alreadyRunning(varDir: string, owner: VarLockOwner): string {
  return `Baton is already running: ${owner.url} (runner pid ${owner.pid}, data in ${varDir}, since ${owner.startedAt}). ` +
    `Use that one, stop it (Ctrl-C where it runs), or start a second shop with a data folder and ports of its own: ${secondShopHint(owner.portBase)}`;
}

export { postgresPortOffset };
