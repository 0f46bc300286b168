import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';

interface Warns {
  warn(fields: object, message: string): void;
}

// Linux lets a process without CAP_SYS_ADMIN set a group's niceness once per 100 ms, machine
// wide (EAGAIN otherwise): two services starting at once may meet it. Tried again until then.
const groupAttempts = 10;
const groupRetryMs = 150;

/** Whether this process leads its own session (`setsid`), from field 6 of /proc/self/stat. */
function leadsItsSession(): boolean {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    // The command name (field 2) may hold spaces and parentheses; the fields after its last ')' do not.
    const [, , , session] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(session) === process.pid;
  } catch {
    return false;
  }
}

/**
 * Lowers the process's priority (raises its niceness): a service whose work can wait (media's
 * renders and uploads, notifications' emails) then takes the CPU that checkout's processes leave,
 * not a share of it. A process may always lower its own priority; one that cannot (a container
 * that forbids it) says so and runs on. A service reads its niceness from `PROCESS_NICENESS`
 * (`env.niceness` in the kit's config fields).
 *
 * Two levels, because Linux weighs the CPU in two steps when its autogroup scheduling is on (the
 * default of desktop and many server kernels): first between sessions, each session's group
 * weighted by the group's own nice value, then between the threads inside a session by theirs.
 * The runner starts each service in a session of its own (`detached`), so a thread's niceness
 * alone only ranked media's threads against each other: measured with the checkout-beside-uploads
 * bench, media at niceness 10 still took 0.94 of the 2 cores while checkout's p99 grew 8×. The
 * session's group is told too, but only when media leads its session: otherwise the group is
 * whoever started it (a shell, a test runner), and their priority is not media's to lower.
 */
export async function yieldTheCpu(niceness: number, logger: Warns): Promise<void> {
  if (niceness === 0) return;
  const target = Math.max(getPriority(), niceness);
  // On Linux niceness is each thread's: libuv's and libvips's workers (where renders and file
  // writes run) started before this, at import, and keep theirs unless each is told. Threads
  // started after inherit it from the thread that starts them.
  const threads = existsSync('/proc/self/task') ? readdirSync('/proc/self/task').map(Number) : [0];
  try {
    for (const thread of threads) setPriority(thread, target);
  } catch (error) {
    logger.warn({ niceness, error: (error as Error).message }, 'could not lower the process priority; running at the default');
  }
  if (!existsSync('/proc/self/autogroup') || !leadsItsSession()) return;
  for (let attempt = 1; ; attempt++) {
    try {
      writeFileSync('/proc/self/autogroup', String(target));
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EAGAIN' && attempt < groupAttempts) {
        await sleep(groupRetryMs);
        continue;
      }
      logger.warn({ niceness, error: (error as Error).message }, "could not lower the session's scheduling group priority; its threads' alone is lowered");
      return;
    }
  }
}

