import type { LogLine } from './log-line.ts';

/**
 * Why the runner could not do what was asked:
 * - `not_ready`: a service did not answer `/readyz` with 200 in time.
 * - `config_error`: a service exited with 78, its configuration is wrong; a restart cannot fix it.
 * - `stopped`: a service was stopped while something waited for it to be ready.
 * - `aborted`: the caller's signal aborted the start (Ctrl-C while starting).
 * - `port_in_use`: a port the stack needs is taken by another program.
 * - `already_running`: another stack runs on the same data folder; the message says where it answers.
 * - `database_error`: the database could not be started or prepared (the message says why).
 */
export type RunnerErrorCode = 'not_ready' | 'config_error' | 'stopped' | 'aborted' | 'port_in_use' | 'already_running' | 'database_error';

/** How a service's process ended. */
export interface ExitInfo {
  pid: number | undefined;
  /** The exit status, or null when a signal ended it. */
  code: number | null;
  signal: NodeJS.Signals | null;
  uptimeMs: number;
  /** Set when the process could not be started at all. */
  error?: string;
}

export interface RunnerErrorOptions {
  service?: string | undefined;
  exit?: ExitInfo | undefined;
  /** The service's last log lines, as written, oldest first. */
  lastLines?: readonly LogLine[];
  cause?: unknown;
}

/** How many of a service's last lines an error message quotes. */
const quotedLines = 20;

/** The one error the runner throws; `code` says what went wrong, `service` which service. */
export class RunnerError extends Error {
  override readonly name = 'RunnerError';
  readonly code: RunnerErrorCode;
  readonly service: string | undefined;
  readonly exit: ExitInfo | undefined;
  readonly lastLines: readonly LogLine[];
  /** The message without the quoted log lines. */
  readonly summary: string;

  constructor(code: RunnerErrorCode, summary: string, { service, exit, lastLines = [], cause }: RunnerErrorOptions = {}) {
    // The last lines go into the message itself, so a failing test or CI log shows why at once.
    const tail = lastLines.slice(-quotedLines).map((line) => `\n    ${line.text}`).join('');
    super(tail === '' ? summary : `${summary}; its last log lines:${tail}`, { cause });
    this.summary = summary;
    this.code = code;
    this.service = service;
    this.exit = exit;
    this.lastLines = lastLines;
  }
}

/** "exit code 1" or "signal SIGKILL": how a process ended, for a log message. */
export function describeExit(exit: ExitInfo): string {
  if (exit.error !== undefined) return `could not be started (${exit.error})`;
  return exit.signal !== null ? `was ended by ${exit.signal}` : `exited with code ${exit.code}`;
}
