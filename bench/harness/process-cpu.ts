import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { processTree } from '../../packages/kit/src/testing/process-tree.ts';

// CPU time of processes from Linux's /proc/<pid>/stat (utime + stime, in clock ticks), for
// scenarios that weigh the CPU a piece of work costs each process, which on a shared machine is
// steadier than its throughput.
const ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/** The CPU time `pid` has used so far, user and system, in ms; 0 once it is gone. */
export function cpuMsOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The fields after the command (which may hold spaces), from the third on: utime is the 14th field, stime the 15th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / ticksPerSecond;
  } catch {
    return 0;
  }
}

/** The CPU time of `pid` and each process under it now, by pid, in ms. */
export function cpuMsOfTree(pid: number): Map<number, number> {
  const tree = new Map([[pid, cpuMsOf(pid)]]);
  for (const child of processTree(pid)) tree.set(child.pid, cpuMsOf(child.pid));
  return tree;
}

/**
 * What a tree used between two readings, in ms: a process that started in between counts from
 * zero; one that ended in between is lost (its last interval cannot be read any more).
 */
export function cpuMsBetween(before: Map<number, number>, after: Map<number, number>): number {
  let sum = 0;
  for (const [pid, ms] of after) sum += ms - (before.get(pid) ?? 0);
  return sum;
}

/** The whole machine's CPU time so far, from /proc/stat's `cpu` line, in ms summed over its cores. */
export interface MachineCpu {
  /** Running anything: user, nice, system, irq, softirq (guests are inside user and nice). */
  busyMs: number;
  /** Taken by the hypervisor for others while this machine had work: lost to it. */
  stealMs: number;
  /** Idle, some of it waiting for the disk (iowait). */
  idleMs: number;
  iowaitMs: number;
}

/** The fields of a /proc/stat `cpu` line, in ms. */
export function machineCpuOf(procStat: string): MachineCpu {
  const line = procStat.split('\n').find((l) => l.startsWith('cpu '));
  if (line === undefined) throw new Error('no cpu line in /proc/stat');
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = line.trim().split(/\s+/).slice(1).map(Number);
  const ms = (ticks: number) => (ticks * 1000) / ticksPerSecond;
  return { busyMs: ms(user + nice + system + irq + softirq), stealMs: ms(steal), idleMs: ms(idle), iowaitMs: ms(iowait) };
}

/** The whole machine's CPU time now (every process, the kernel's own threads, other people's work). */
export const machineCpu = (): MachineCpu => machineCpuOf(readFileSync('/proc/stat', 'utf8'));
