import { readFileSync } from 'node:fs';

// Resident memory of one process, from Linux's /proc/<pid>/status, sampled while work runs.

/** A `kB` field of a /proc/<pid>/status text (VmRSS, VmHWM), in bytes; undefined when absent. */
export function statusField(statusText: string, field: string): number | undefined {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(statusText);
  return match === null ? undefined : Number(match[1]) * 1024;
}

/** The process's resident memory now (VmRSS) and its peak so far (VmHWM), in bytes; undefined once it is gone. */
export function residentOf(pid: number): { rssBytes: number; peakBytes: number } | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  const rssBytes = statusField(text, 'VmRSS');
  const peakBytes = statusField(text, 'VmHWM');
  return rssBytes === undefined || peakBytes === undefined ? undefined : { rssBytes, peakBytes };
}

/** How far samples rose above a baseline: the largest sample less the baseline (0 when none rose). */
export function growthOver(baselineBytes: number, samplesBytes: readonly number[]): number {
  return Math.max(0, ...samplesBytes.map((sample) => sample - baselineBytes));
}

export interface RssSampler {
  /** VmRSS when the sampler started: the baseline. */
  readonly baselineBytes: number;
  /** Every sample so far, the baseline first. */
  readonly samplesBytes: readonly number[];
  /** Stops sampling; samples taken stay. */
  stop(): void;
}

/** Samples `pid`'s VmRSS every `everyMs` from now on (its first sample is the baseline). */
export function sampleRss(pid: number, { everyMs = 500 }: { everyMs?: number } = {}): RssSampler {
  const first = residentOf(pid);
  if (first === undefined) throw new Error(`no process ${pid} to sample`);
  const samplesBytes = [first.rssBytes];
  const timer = setInterval(() => {
    const now = residentOf(pid);
    if (now !== undefined) samplesBytes.push(now.rssBytes);
  }, everyMs);
  return {
    baselineBytes: first.rssBytes,
    samplesBytes,
    stop: () => clearInterval(timer),
  };
}
