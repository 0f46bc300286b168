import { readdirSync, readFileSync } from 'node:fs';

/** One process under another, as Linux's /proc tells it. */
export interface TreeProcess {
  pid: number;
  /** Its command line, shortened. */
  command: string;
}

/** Whether this machine has Linux's /proc, which the helpers here read. */
export const hasProcFs = (() => {
  try {
    readdirSync('/proc/self');
    return true;
  } catch {
    return false;
  }
})();

/**
 * Every process under `pid` (children, their children, …), from the parent pids in /proc.
 * Linux only: for tests and benchmarks that must find what a command left running.
 */
export function processTree(pid: number): TreeProcess[] {
  const parentOf = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(Number(entry));
    if (stat !== undefined) parentOf.set(Number(entry), stat.ppid);
  }
  const found: TreeProcess[] = [];
  const visit = (parent: number) => {
    for (const [child, ppid] of parentOf) {
      if (ppid !== parent) continue;
      found.push({ pid: child, command: commandOf(child) });
      visit(child);
    }
  };
  visit(pid);
  return found;
}

/** Running: it exists and is not a zombie (one that exited and waits for its parent to reap it). */
export function isRunning(pid: number): boolean {
  const stat = readStat(pid);
  return stat !== undefined && stat.state !== 'Z';
}

/** Resident memory now, from /proc/<pid>/smaps_rollup: `rss` counts shared pages in full, `pss` shares them out. */
export function memoryOf(pid: number): { rssBytes: number; pssBytes: number } | undefined {
  try {
    const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(rollup)?.[1] ?? 0) * 1024;
    return { rssBytes: field('Rss'), pssBytes: field('Pss') };
  } catch {
    return undefined;
  }
}

/** The scheduling niceness of a process (its main thread) and of each of its threads; undefined once it is gone. */
export function nicenessOf(pid: number): { niceness: number; threads: number[] } | undefined {
  const niceness = readStat(pid)?.niceness;
  if (niceness === undefined) return undefined;
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return undefined;
  }
  // A thread that ended between the listing and its read is left out.
  const threads = tasks.flatMap((task) => {
    const thread = readStat(pid, task)?.niceness;
    return thread === undefined ? [] : [thread];
  });
  return { niceness, threads };
}

function readStat(pid: number, task?: string): { state: string; ppid: number; niceness: number } | undefined {
  try {
    const stat = readFileSync(task === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${task}/stat`, 'utf8');
    // The command name is in parentheses and may hold spaces: the fields start after the last ')'
    // (the state is the 3rd field, the parent the 4th, the niceness the 19th).
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state: fields[0] ?? '', ppid: Number(fields[1] ?? 0), niceness: Number(fields[16]) };
  } catch {
    return undefined;
  }
}

function commandOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim().slice(0, 160);
  } catch {
    return '?';
  }
}
