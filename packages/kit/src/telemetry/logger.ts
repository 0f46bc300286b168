import { pino, type Logger, type DestinationStream } from 'pino';
import { Code, KitError } from '../errors/index.ts';
import { stdoutLogSink } from './log-sink.ts';
import { traceLogFields } from './tracing/log-correlation.ts';

export type { Logger } from 'pino';

/**
 * Paths pino blanks out before a line is written. Secrets must never reach a log, whatever
 * object a handler decides to log: headers, bodies and errors are all covered.
 */
const secretKeys = ['authorization', 'cookie', 'password', 'token', 'accessToken', 'refreshToken', 'secret', 'apiKey', 'DATABASE_URL', 'SMTP_URL', 'AMQP_URL', 'NATS_URL', 'ADMIN_TOKEN', 'TOKEN_KEY_ENCRYPTION_KEY', 'TOKEN_KEY_ENCRYPTION_KEY_PREVIOUS', 'keyEncryptionKey', 'SERVICE_KEY'];

// pino matches fixed paths, so each secret key is listed at every depth a handler is likely to
// log it (up to four levels: `{ request: { headers: { authorization } } }`), plus headers.
export const redactedPaths = [
  ...secretKeys.flatMap((key) => [key, `*.${key}`, `*.*.${key}`, `*.*.*.${key}`]),
  'req.headers["x-api-key"]', 'req.headers["baton-service-token"]', 'headers["baton-service-token"]', '*.headers["baton-service-token"]', 'res.headers["set-cookie"]', 'headers["set-cookie"]', '*.headers["set-cookie"]',
];

export interface LoggerOptions {
  service: string;
  level?: string;
  /**
   * Adds fields to every line. By default `trace_id` and `span_id` of the active span, so a
   * log line leads to its trace.
   */
  mixin?: () => Record<string, unknown>;
  /** Where lines go; by default the process's stdout, which never blocks the service (`log-sink.ts`). */
  destination?: DestinationStream;
}

/**
 * One JSON object a line, with `service` on every line and `request_id` on every line written
 * during a request (the HTTP server adds it).
 */
export function createLogger({ service, level = 'info', mixin = traceLogFields, destination }: LoggerOptions): Logger {
  if (destination !== undefined) return createPino({ service, level, mixin }, destination);
  const sink = stdoutLogSink();
  const logger = createPino({ service, level, mixin }, sink);
  if (logger.isLevelEnabled('warn')) sink.reportDropsTo((droppedLines) => logger.warn({ dropped_lines: droppedLines }, 'stdout was not read: log lines were dropped'));
  return logger;
}

function createPino({ service, level, mixin }: Required<Omit<LoggerOptions, 'destination'>>, destination: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service, pid: process.pid },
      messageKey: 'msg',
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: redactedPaths, censor: '[REDACTED]' },
      serializers: { err: serializeError, error: serializeError },
      mixin,
    },
    destination,
  );
}

// The codes that mean a bug, whose stack says where to look (docs/errors.md).
const bugCodes: ReadonlySet<string> = new Set([Code.Internal, Code.Unknown, Code.DataLoss]);

/**
 * An error as pino writes it, with its causes, and a stack only where it says where a bug is:
 * a failure the kit has named (a dependency unavailable, a deadline, a bad input: a `KitError`
 * with any other code) is expected, and its stack and its causes' would only bury what the line
 * says (a database restart wrote some hundred of them a second).
 */
function serializeError(error: unknown): unknown {
  const serialized = pino.stdSerializers.errWithCause(error as Error) as Record<string, unknown>;
  if (error instanceof KitError && !bugCodes.has(error.code)) withoutStacks(serialized);
  return serialized;
}

function withoutStacks(serialized: Record<string, unknown>): void {
  delete serialized.stack;
  if (typeof serialized.cause === 'object' && serialized.cause !== null) withoutStacks(serialized.cause as Record<string, unknown>);
}
