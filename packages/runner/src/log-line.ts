import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';

/** The name the runner's own log lines carry in their `service` field. */
export const runnerName = 'runner';

/** One whole line a service (or the runner itself) wrote. */
export interface LogLine {
  /** The service that wrote it, or `runner`. */
  service: string;
  stream: 'stdout' | 'stderr';
  /** The line exactly as written, without its newline. */
  text: string;
  /** The line parsed, when it is a JSON object (as every pino line is). */
  record: Record<string, unknown> | undefined;
}

export type Level = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';

export function parseLogLine(service: string, stream: LogLine['stream'], text: string): LogLine {
  return { service, stream, text, record: parseRecord(text) };
}

function parseRecord(text: string): Record<string, unknown> | undefined {
  // Only lines that look like an object are parsed: most non-JSON output is cheap to rule out.
  if (!text.startsWith('{')) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? value as Record<string, unknown> : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A log line of the runner's own, shaped like the services' pino lines (`level` as a label,
 * ISO `time`, `service`, `msg`) so one parser reads the whole merged stream.
 */
export function runnerLogLine(level: Level, msg: string, fields: Record<string, unknown> = {}): LogLine {
  const record = { level, time: new Date().toISOString(), service: runnerName, pid: process.pid, ...fields, msg };
  return { service: runnerName, stream: 'stdout', text: JSON.stringify(record), record };
}

/**
 * Calls `onLine` for every whole line the stream carries. readline keeps the partial line of
 * a chunk until its newline arrives (and decodes UTF-8 across chunk boundaries), so lines from
 * different services never interleave mid-line.
 */
export function readLines(stream: Readable, onLine: (text: string) => void): void {
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  lines.on('line', onLine);
}
