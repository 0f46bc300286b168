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

function readStat(pid: number): { state: string; ppid: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name is in parentheses and may hold spaces: the fields start after the last ')'.
    const [state = '', ppid = '0'] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state, ppid: Number(ppid) };
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
