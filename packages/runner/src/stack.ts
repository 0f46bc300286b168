import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BackoffOptions } from './backoff.ts';
import { RunnerError, type ExitInfo } from './errors.ts';
import { runnerLogLine, type Level, type LogLine } from './log-line.ts';
import { serviceEnvironment, serviceUrl } from './environment.ts';
import { findPortInUse } from './ports.ts';
import { eventLog } from './process-events.ts';
import { waitUntilReady } from './readiness.ts';
import { createServiceProcess, type ProcessEvent, type ProcessState, type ServiceProcess } from './service-process.ts';
import { grpcPortOf, grpcPortOffset, isServiceName, portOf, serviceNames, stopOrder, type ServiceName } from './services.ts';

/** The repository root: services are started from here, and `var/` lives here by default. */
export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

export interface StackOptions {
  /** Which services to start; all of them by default. Ports stay the same whichever you pick. */
  services?: readonly ServiceName[];
  /** The first service's port; the others follow in list order (8080 to 8084 by default). */
  portBase?: number;
  /** Each service keeps its data in `<varDir>/<name>`. */
  varDir?: string;
  /**
   * The environment every service inherits, `process.env` by default. `DATABASE_URL` is always
   * removed from it: one URL for all would make every service share one database. Give a service
   * its own with `serviceEnv`.
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
}

export interface ServiceStatus {
  name: ServiceName;
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

/** A running shop: one supervised process a service. */
export interface Stack {
  readonly services: readonly ServiceName[];
  readonly portBase: number;
  readonly varDir: string;
  /** Starts every service and resolves once all answer `/readyz` with 200. */
  startAll(options?: { signal?: AbortSignal }): Promise<void>;
  /** The service's base URL, e.g. `http://127.0.0.1:8080`. */
  url(name: ServiceName): string;
  status(name: ServiceName): ServiceStatus;
  /** The service's last log lines, oldest first. */
  lastLines(name: ServiceName): LogLine[];
  /** Starts a stopped service and waits until it is ready. */
  start(name: ServiceName): Promise<void>;
  /** Stops a service gracefully (SIGTERM); it stays down until `start`. */
  stop(name: ServiceName): Promise<ExitInfo | undefined>;
  /**
   * Crashes a service: SIGKILL by default, resolving once it has exited. The supervisor restarts
   * it with backoff, unless `restart` is false. SIGSTOP freezes it and SIGCONT thaws it.
   */
  kill(name: ServiceName, signal?: NodeJS.Signals, options?: { restart?: boolean }): Promise<ExitInfo | undefined>;
  /** Stops a service gracefully, starts it again and waits until it is ready. */
  restart(name: ServiceName): Promise<void>;
  /** Resolves once the service's current process answers `/readyz` with 200. */
  waitReady(name: ServiceName, options?: { timeoutMs?: number }): Promise<void>;
  /** Stops every service, callers before the services they call. Safe to call twice. */
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

/** Builds a stack without starting it, for a caller that must be able to stop it while it starts (the CLI). */
export function createStack({
  services = serviceNames,
  portBase = 8080,
  varDir = join(repoRoot, 'var'),
  env = process.env,
  serviceEnv = {},
  onLog,
  startTimeoutMs = 60_000,
  stopTimeoutMs = 15_000,
  backoff,
}: StackOptions = {}): Stack {
  for (const name of services) {
    if (!isServiceName(name)) throw new TypeError(`unknown service ${String(name)}; known: ${serviceNames.join(', ')}`);
  }
  const lastPort = portBase + grpcPortOffset + serviceNames.length - 1;
  if (!Number.isInteger(portBase) || portBase < 1 || lastPort > 65_535) {
    throw new RangeError(`portBase must be a whole number from 1 to ${65_535 - grpcPortOffset - serviceNames.length + 1}`);
  }
  const selected = serviceNames.filter((name) => services.includes(name));
  const urlOf = (name: ServiceName) => serviceUrl(name, portBase);
  const log = (level: Level, msg: string, fields: Record<string, unknown>) => onLog?.(runnerLogLine(level, msg, fields));

  const processes = new Map<ServiceName, ServiceProcess>(selected.map((name) => [name, createServiceProcess({
    name,
    command: process.execPath,
    args: [join('services', name, 'src', 'main.ts')],
    cwd: repoRoot,
    env: serviceEnvironment(name, { env, portBase, varDir, overrides: serviceEnv[name] }),
    waitUntilReady: (signal) => waitUntilReady(urlOf(name), { signal }),
    onLog,
    onEvent: (event) => onProcessEvent(name, event),
    backoff,
    stopTimeoutMs,
  })]));

  function processOf(name: ServiceName): ServiceProcess {
    const found = processes.get(name);
    if (found === undefined) throw new TypeError(`${name} is not part of this stack (${selected.join(', ')})`);
    return found;
  }

  function onProcessEvent(name: ServiceName, event: ProcessEvent): void {
    const { level, msg, fields } = eventLog(name, urlOf(name), event);
    log(level, msg, fields);
    // A configuration error comes back on every restart: stop the whole stack and say why.
    if (event.type === 'exited' && event.outcome === 'fatal') void stopAll('config_error', name);
  }

  let resolveStopped!: (stopped: StackStopped) => void;
  const stopped = new Promise<StackStopped>((resolve) => { resolveStopped = resolve; });
  let closing: Promise<ShutdownResult> | undefined;

  function stopAll(reason: StackStopped['reason'], service?: ServiceName): Promise<ShutdownResult> {
    closing ??= (async () => {
      log('info', 'stopping Baton', { event: 'stack_stopping', reason });
      const exits: ShutdownResult['exits'] = {};
      for (const group of stopOrder(selected)) {
        await Promise.all(group.map(async (name) => {
          const exit = await processOf(name).stop();
          if (exit !== undefined) exits[name] = exit;
        }));
      }
      const clean = reason === 'shutdown' && Object.values(exits).every((exit) => exit.code === 0);
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
    const ports = selected.flatMap((name) => [portOf(name, portBase), grpcPortOf(name, portBase)].filter((port) => port !== undefined).map((port) => ({ name, port })));
    const busy = await findPortInUse(ports.map(({ port }) => port));
    if (busy !== undefined) {
      const owner = ports.find(({ port }) => port === busy)?.name;
      throw new RunnerError('port_in_use', `port ${busy} (for ${owner}) is already in use, perhaps by another Baton; choose another port base (BATON_PORT_BASE for npm start)`, { service: owner });
    }
    assertOpen();
    log('info', `starting ${selected.join(', ')}`, { event: 'stack_starting', port_base: portBase, var_dir: varDir });
    // All at once: they do not need each other to start, and most of the wait is each one's database.
    await Promise.all(selected.map((name) => processOf(name).start()));
    await Promise.all(selected.map((name) => processOf(name).waitReady({ timeoutMs: startTimeoutMs, signal })));
  }

  return {
    services: selected,
    portBase,
    varDir,
    startAll,
    url: (name) => {
      if (!isServiceName(name)) throw new TypeError(`unknown service ${String(name)}`);
      return urlOf(name);
    },
    status: (name) => {
      const proc = processOf(name);
      return { name, url: urlOf(name), state: proc.state, pid: proc.pid, restarts: proc.restarts, lastExit: proc.lastExit };
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
      await processOf(name).start();
      await processOf(name).waitReady({ timeoutMs: startTimeoutMs });
    },
    waitReady: (name, { timeoutMs = startTimeoutMs } = {}) => processOf(name).waitReady({ timeoutMs }),
    shutdown: () => stopAll('shutdown'),
    stopped,
  };
}
