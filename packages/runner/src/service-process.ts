import { spawn, type ChildProcess } from 'node:child_process';
import { defaultBackoff, restartDelayMs, type BackoffOptions } from './backoff.ts';
import { describeExit, RunnerError, type ExitInfo } from './errors.ts';
import { parseLogLine, readLines, type LogLine } from './log-line.ts';

/**
 * - `starting`: spawned, `/readyz` has not answered 200 yet.
 * - `ready`: this process has answered `/readyz` with 200.
 * - `backoff`: it crashed and waits to be restarted.
 * - `failed`: it exited with a code that a restart cannot fix (78); it stays down.
 */
export type ProcessState = 'stopped' | 'starting' | 'ready' | 'backoff' | 'stopping' | 'failed';

/** What happened to a supervised process; the stack turns these into its own log lines. */
export type ProcessEvent =
  | { type: 'spawned'; pid: number | undefined; restarts: number }
  | { type: 'ready'; pid: number | undefined; startupMs: number }
  | { type: 'exited'; exit: ExitInfo; outcome: 'stopped' }
  | { type: 'exited'; exit: ExitInfo; outcome: 'fatal' }
  | { type: 'exited'; exit: ExitInfo; outcome: 'restarting'; restartInMs: number; attempt: number }
  | { type: 'stop-timeout'; pid: number | undefined; stopTimeoutMs: number };

export interface ServiceProcessOptions {
  name: string;
  command: string;
  args: readonly string[];
  cwd: string;
  /** Its environment, or a function read at every spawn (a stack hands out database URLs after creating the process). */
  env: NodeJS.ProcessEnv | (() => NodeJS.ProcessEnv);
  /** Resolves once the process serves; rejects when `signal` aborts (the process exited). */
  waitUntilReady: (signal: AbortSignal) => Promise<void>;
  onLog?: ((line: LogLine) => void) | undefined;
  onEvent?: ((event: ProcessEvent) => void) | undefined;
  backoff?: BackoffOptions | undefined;
  /** How long a process may take to exit after SIGTERM before it gets SIGKILL. */
  stopTimeoutMs?: number | undefined;
  /** Exit codes a restart cannot fix; 78 is the kit's configuration error. */
  fatalExitCodes?: readonly number[] | undefined;
  /** The signal that asks it to stop gracefully: SIGTERM for a service, SIGINT for PostgreSQL's fast shutdown. */
  stopSignal?: NodeJS.Signals | undefined;
  /** Signals it lives through besides those a Node process does (PostgreSQL reloads on SIGHUP). */
  survives?: readonly NodeJS.Signals[] | undefined;
  /**
   * How the process learns that the runner is gone, even when the runner is killed with SIGKILL:
   * `ipc` opens a channel a Node service watches (the kit shuts down when it closes); a guard is
   * a watcher that stops a process that cannot watch (PostgreSQL), released when it exits.
   */
  orphanPolicy?: { ipc: true } | { guard: (child: ChildProcess) => { release(): void } } | undefined;
  /** Another user to run it as (PostgreSQL under a root runner). */
  uid?: number | undefined;
  gid?: number | undefined;
  /** How many of its last log lines to keep for error reports. */
  keptLines?: number | undefined;
}

/** One service's process, kept running: restarted after a crash, stopped on request. */
export interface ServiceProcess {
  readonly name: string;
  readonly state: ProcessState;
  readonly pid: number | undefined;
  /** How many times the process was started again after its first start. */
  readonly restarts: number;
  readonly lastExit: ExitInfo | undefined;
  lastLines(): LogLine[];
  /** Spawns the process now (a pending restart is brought forward); does not wait for ready. */
  start(): Promise<void>;
  /** `stopSignal` (SIGTERM by default), then SIGKILL after `stopTimeoutMs`; it is not restarted. Resolves with how it exited. */
  stop(): Promise<ExitInfo | undefined>;
  /**
   * Sends a signal. A terminating one resolves once the process has exited, and it is restarted
   * unless `restart` is false. SIGSTOP, SIGCONT and other signals Node survives resolve at once.
   */
  kill(signal?: NodeJS.Signals, options?: { restart?: boolean }): Promise<ExitInfo | undefined>;
  /** Resolves when the current process is ready; rejects if it fails for good, is stopped, or time runs out. */
  waitReady(options: { timeoutMs: number; signal?: AbortSignal | undefined }): Promise<void>;
}

// Signals after which a Node process goes on living (SIGUSR1 opens the inspector).
const survivableSignals = new Set<NodeJS.Signals>(['SIGSTOP', 'SIGTSTP', 'SIGCONT', 'SIGUSR1', 'SIGWINCH', 'SIGURG', 'SIGCHLD']);

// Every child still running, so that if the runner exits without stopping them (a crash, or a
// second Ctrl-C) they are killed with it instead of holding their ports as orphans.
const liveChildren = new Set<ChildProcess>();
let exitHookInstalled = false;

function track(child: ChildProcess): void {
  liveChildren.add(child);
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', function killOrphans() {
    for (const orphan of liveChildren) orphan.kill('SIGKILL');
  });
}

/**
 * Supervises one service's process. After a crash (any exit it did not ask for) it restarts
 * the process with exponential backoff; after an exit in `fatalExitCodes` it gives up, since a
 * configuration error comes back on every restart.
 *
 * @example
 * const users = createServiceProcess({ name: 'users', command: process.execPath, args: ['services/users/src/main.ts'],
 *   cwd: repoRoot, env, waitUntilReady: (signal) => waitUntilReady(url, { signal }) });
 * await users.start();
 * await users.waitReady({ timeoutMs: 60_000 });
 */
export function createServiceProcess(options: ServiceProcessOptions): ServiceProcess {
  const { name, command, args, cwd, env, onLog, onEvent, stopTimeoutMs = 15_000, fatalExitCodes = [78], keptLines = 50, stopSignal = 'SIGTERM', orphanPolicy, uid, gid } = options;
  const survivable = new Set([...survivableSignals, ...(options.survives ?? [])]);
  const backoff = { ...defaultBackoff, ...options.backoff };

  let state: ProcessState = 'stopped';
  let wantRunning = false;
  let child: ChildProcess | undefined;
  let childExit: Promise<ExitInfo> | undefined;
  // Set once a terminating signal went to the current child: its "ready" no longer counts.
  let exitPending = false;
  let spawns = 0;
  let consecutiveCrashes = 0;
  let restartTimer: NodeJS.Timeout | undefined;
  let stopping: Promise<ExitInfo | undefined> | undefined;
  let lastExit: ExitInfo | undefined;
  const lines: LogLine[] = [];
  const stateListeners = new Set<() => void>();

  function setState(next: ProcessState): void {
    state = next;
    for (const listener of stateListeners) listener();
  }

  function keepLine(line: LogLine): void {
    lines.push(line);
    if (lines.length > keptLines) lines.shift();
    onLog?.(line);
  }

  function spawnChild(): void {
    restartTimer = undefined;
    const startedAt = performance.now();
    const proc = spawn(command, args, {
      cwd,
      env: typeof env === 'function' ? env() : env,
      stdio: orphanPolicy !== undefined && 'ipc' in orphanPolicy ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'pipe', 'pipe'],
      ...(uid === undefined ? {} : { uid }),
      ...(gid === undefined ? {} : { gid }),
      // Its own process group: a Ctrl-C in the terminal reaches only the runner, which then stops
      // each service once, with SIGTERM. Otherwise every service would get SIGINT from the
      // terminal and SIGTERM from the runner, and take the second signal as "exit now".
      detached: true,
    });
    child = proc;
    exitPending = false;
    spawns += 1;
    track(proc);
    const guard = orphanPolicy !== undefined && 'guard' in orphanPolicy ? orphanPolicy.guard(proc) : undefined;
    if (proc.stdout) readLines(proc.stdout, (text) => keepLine(parseLogLine(name, 'stdout', text)));
    if (proc.stderr) readLines(proc.stderr, (text) => keepLine(parseLogLine(name, 'stderr', text)));

    const exited = new AbortController();
    let settled = false;
    let resolveExit!: (exit: ExitInfo) => void;
    childExit = new Promise((resolve) => { resolveExit = resolve; });
    const onGone = (code: number | null, signal: NodeJS.Signals | null, error?: string) => {
      if (settled) return;
      settled = true;
      guard?.release();
      liveChildren.delete(proc);
      exited.abort(new Error(`${name} exited`));
      const exit: ExitInfo = { pid: proc.pid, code, signal, uptimeMs: Math.round(performance.now() - startedAt), ...(error === undefined ? {} : { error }) };
      if (child === proc) {
        child = undefined;
        childExit = undefined;
      }
      lastExit = exit;
      onExit(exit);
      resolveExit(exit);
    };
    // 'close' rather than 'exit': it comes after the pipes are drained, so the process's last
    // lines (often the reason it died) are logged before the line saying that it died.
    proc.once('close', (code, signal) => onGone(code, signal));
    proc.on('error', (error) => {
      // Without a pid the process never started and no 'close' may follow; otherwise it is a
      // failed kill() of a process already gone, which 'close' reports.
      if (proc.pid === undefined) onGone(null, null, error.message);
    });

    onEvent?.({ type: 'spawned', pid: proc.pid, restarts: spawns - 1 });
    setState('starting');
    void watchReady(proc, exited.signal, startedAt);
  }

  async function watchReady(proc: ChildProcess, exited: AbortSignal, startedAt: number): Promise<void> {
    try {
      await options.waitUntilReady(exited);
    } catch {
      return;
    }
    if (child !== proc || exitPending || state !== 'starting') return;
    onEvent?.({ type: 'ready', pid: proc.pid, startupMs: Math.round(performance.now() - startedAt) });
    setState('ready');
  }

  // The state changes before the event goes out: whoever waits on this process learns why it
  // stopped before an event handler (the stack stopping everything on a fatal exit) moves on.
  function onExit(exit: ExitInfo): void {
    if (!wantRunning || state === 'stopping') {
      setState('stopped');
      onEvent?.({ type: 'exited', exit, outcome: 'stopped' });
      return;
    }
    if (exit.code !== null && fatalExitCodes.includes(exit.code)) {
      wantRunning = false;
      setState('failed');
      onEvent?.({ type: 'exited', exit, outcome: 'fatal' });
      return;
    }
    if (exit.uptimeMs >= backoff.resetAfterUpMs) consecutiveCrashes = 0;
    consecutiveCrashes += 1;
    const restartInMs = restartDelayMs(consecutiveCrashes, backoff);
    restartTimer = setTimeout(spawnChild, restartInMs);
    setState('backoff');
    onEvent?.({ type: 'exited', exit, outcome: 'restarting', restartInMs, attempt: consecutiveCrashes });
  }

  async function start(): Promise<void> {
    if (stopping) await stopping;
    wantRunning = true;
    if (child !== undefined) return;
    if (restartTimer !== undefined) clearTimeout(restartTimer);
    spawnChild();
  }

  function stop(): Promise<ExitInfo | undefined> {
    wantRunning = false;
    if (restartTimer !== undefined) {
      clearTimeout(restartTimer);
      restartTimer = undefined;
      setState('stopped');
    }
    if (stopping) return stopping;
    const proc = child;
    const exit = childExit;
    if (proc === undefined || exit === undefined) return Promise.resolve(undefined);
    exitPending = true;
    setState('stopping');
    stopping = (async () => {
      proc.kill(stopSignal);
      // A process frozen with SIGSTOP would hold SIGTERM until the timeout; wake it to exit cleanly.
      proc.kill('SIGCONT');
      const forceTimer = setTimeout(() => {
        onEvent?.({ type: 'stop-timeout', pid: proc.pid, stopTimeoutMs });
        proc.kill('SIGKILL');
      }, stopTimeoutMs);
      try {
        return await exit;
      } finally {
        clearTimeout(forceTimer);
        stopping = undefined;
      }
    })();
    return stopping;
  }

  async function kill(signal: NodeJS.Signals = 'SIGKILL', { restart = true }: { restart?: boolean } = {}): Promise<ExitInfo | undefined> {
    const proc = child;
    const exit = childExit;
    if (proc === undefined || exit === undefined) return undefined;
    if (survivable.has(signal)) {
      proc.kill(signal);
      return undefined;
    }
    if (!restart) wantRunning = false;
    exitPending = true;
    proc.kill(signal);
    return exit;
  }

  function waitReady({ timeoutMs, signal }: { timeoutMs: number; signal?: AbortSignal | undefined }): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const finish = (outcome: () => void) => {
        stateListeners.delete(check);
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        outcome();
      };
      const fail = (code: 'not_ready' | 'config_error' | 'stopped' | 'aborted', message: string, cause?: unknown) =>
        finish(() => reject(new RunnerError(code, message, { service: name, exit: lastExit, lastLines: [...lines], cause })));
      function check(): void {
        if (state === 'ready' && !exitPending) finish(resolve);
        else if (state === 'failed') {
          const how = lastExit === undefined ? 'failed' : describeExit(lastExit);
          fail('config_error', `${name} ${how} (a configuration error) and is not restarted`);
        } else if (!wantRunning && (state === 'stopped' || state === 'stopping')) fail('stopped', `${name} was stopped before it was ready`);
      }
      const onAbort = () => fail('aborted', `stopped waiting for ${name} to be ready`, signal?.reason);
      const timer = setTimeout(() => fail('not_ready', `${name} was not ready within ${timeoutMs} ms (it never answered as ready: /readyz with 200 for a service, a query for PostgreSQL)`), timeoutMs);
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      stateListeners.add(check);
      check();
    });
  }

  return {
    name,
    get state() { return state; },
    get pid() { return child?.pid; },
    get restarts() { return Math.max(spawns - 1, 0); },
    get lastExit() { return lastExit; },
    lastLines: () => [...lines],
    start,
    stop,
    kill,
    waitReady,
  };
}
