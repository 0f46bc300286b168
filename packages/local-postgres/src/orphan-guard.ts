import { spawn, type ChildProcess } from 'node:child_process';
import { serverEnvironment } from './server-user.ts';

export interface OrphanGuardOptions {
  /** The signal that asks the process to stop: SIGINT is PostgreSQL's fast shutdown. */
  signal?: NodeJS.Signals;
  /** How long it may take to stop before it is killed: at least this, and less than a second more (the guard reads a clock of whole seconds). */
  graceMs?: number;
  /** A folder to remove once the process is gone (a throw-away server's data). */
  removeAfter?: string | undefined;
  /** Who the guard runs as: the guarded process's own user, so it may signal it. */
  uid?: number | undefined;
  gid?: number | undefined;
}

/** A guard that is no longer needed (the process exited while its parent watched). */
export interface OrphanGuard {
  release(): void;
}

// The guard reads its standard input, a pipe whose other end only this process holds, until
// the end: it ends when this process is gone, however it went (SIGKILL included). Then it
// stops the guarded process, waits for it, kills it after the grace time, and removes the
// folder. A shell script, not a Node process: it costs a megabyte, not forty.
const guardScript = `
pid=$1 signal=$2 grace_seconds=$3 remove_after=$4
# A zombie (exited, not yet reaped by the new parent) counts as gone.
alive() {
  kill -0 "$pid" 2>/dev/null || return 1
  case "$(ps -o stat= -p "$pid" 2>/dev/null)" in Z*) return 1 ;; esac
}
while read -r _; do :; done
kill -s "$signal" "$pid" 2>/dev/null
# The grace is read from the clock, not counted in naps: on a loaded machine each nap and ps
# takes longer than its tenth of a second, and forty of them took well over four seconds. The
# clock counts whole seconds, so one more makes the grace at least what was asked.
kill_at=$(($(date +%s) + grace_seconds + 1))
while alive; do
  if [ "$(date +%s)" -ge "$kill_at" ]; then kill -s KILL "$pid" 2>/dev/null; break; fi
  sleep 0.1
done
if [ -n "$remove_after" ]; then
  # Bounded: without ps, under a parent that never reaps, a zombie would look alive for ever.
  waited=0
  while alive && [ "$waited" -lt 600 ]; do sleep 0.1; waited=$((waited + 1)); done
  rm -rf "$remove_after"
fi
`;

/**
 * Makes sure `child` does not outlive this process. A process killed with SIGKILL cannot stop
 * its children, and PostgreSQL, unlike a Baton service, cannot notice that its parent is gone;
 * so a small watcher does it: when this process goes away, the watcher asks the child to stop.
 * Call `release()` once the child has exited, so the watcher never signals a pid that was
 * given to another process since.
 *
 * Written by hand because this is the heart of "a runner that leaves nothing behind"; Linux's
 * PR_SET_PDEATHSIG would do it for one process, but Node has no API for it.
 *
 * @example
 * const server = spawn(postgres, args, { env, detached: true });
 * const guard = guardAgainstOrphaning(server, { signal: 'SIGINT' });
 * server.once('exit', () => guard.release());
 */
export function guardAgainstOrphaning(child: ChildProcess, { signal = 'SIGINT', graceMs = 4_000, removeAfter, uid, gid }: OrphanGuardOptions = {}): OrphanGuard {
  if (child.pid === undefined) return { release() {} };
  const watcher = spawn('sh', ['-c', guardScript, 'baton-orphan-guard', String(child.pid), signal.replace(/^SIG/, ''), String(Math.ceil(graceMs / 1_000)), removeAfter ?? ''], {
    stdio: ['pipe', 'ignore', 'ignore'],
    env: serverEnvironment(),
    // Its own session: a terminal's Ctrl-C must not end the guard before the runner is done.
    detached: true,
    ...(uid === undefined ? {} : { uid }),
    ...(gid === undefined ? {} : { gid }),
  });
  // Neither the watcher nor its pipe may keep this process alive.
  watcher.unref();
  (watcher.stdin as unknown as { unref?: () => void } | null)?.unref?.();
  watcher.on('error', () => {});
  watcher.stdin?.on('error', () => {});
  return {
    release() {
      watcher.kill('SIGKILL');
    },
  };
}
