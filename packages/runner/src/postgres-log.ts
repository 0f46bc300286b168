import type { Level, LogLine } from './log-line.ts';

// `log_line_prefix = '%m [%p] %e %q%u@%d '` (server-settings.ts): time, pid, SQLSTATE, and for
// a session its user and database, then the severity.
const linePattern = /^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)? \S+) \[(\d+)\] ([0-9A-Z]{5}) (?:(\S*)@(\S*) )?([A-Z0-9]+):\s+(.*)$/;

/**
 * Lines that are no news, left out of the console: a client told "not yet" (57P03) while the
 * server starts or recovers (the runner's readiness probe asks every 50 ms), and a unique
 * violation (23505: an email already registered), which the service answers as a 409 itself.
 * Other errors, other constraints included, stay.
 */
export function isNoise(line: LogLine): boolean {
  const state = line.record?.sql_state;
  return state === '57P03' || state === '23505';
}

const levelOf: Record<string, Level> = {
  DEBUG1: 'debug', DEBUG2: 'debug', DEBUG3: 'debug', DEBUG4: 'debug', DEBUG5: 'debug',
  INFO: 'info', NOTICE: 'info', LOG: 'info',
  WARNING: 'warn',
  ERROR: 'error',
  // FATAL ends one session (a refused sign-in), not the server.
  FATAL: 'error',
  PANIC: 'fatal',
};

/**
 * A line of PostgreSQL's log as a JSON line like the services' (`level`, `time`, `service`,
 * `pid`, `msg`, plus `severity`, `user`, `database`), so the merged stream is one format and
 * "database system is ready" is an info line, not a warning. A line in no known shape (the
 * rest of a multi-line message) is kept as it came.
 */
export function postgresLogLine(line: LogLine): LogLine {
  const match = linePattern.exec(line.text);
  if (match === null) return line;
  const [, time, pid, sqlState = '00000', user, database, severity = 'LOG', msg] = match;
  const parsedTime = new Date(time?.replace(' UTC', 'Z').replace(' ', 'T') ?? '');
  const record = {
    level: levelOf[severity] ?? 'info',
    time: Number.isNaN(parsedTime.getTime()) ? new Date().toISOString() : parsedTime.toISOString(),
    service: line.service,
    pid: Number(pid),
    severity,
    ...(sqlState === '00000' ? {} : { sql_state: sqlState }),
    ...(user ? { user } : {}),
    ...(database ? { database } : {}),
    msg,
  };
  return { ...line, text: JSON.stringify(record), record };
}
