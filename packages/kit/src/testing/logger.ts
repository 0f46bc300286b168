import { createLogger, type Logger } from '../telemetry/index.ts';

/** One line the logger wrote, parsed. */
export interface LogLine {
  level: string;
  msg?: string;
  service?: string;
  request_id?: string;
  err?: { type?: string; message?: string; stack?: string };
  [field: string]: unknown;
}

export interface CapturedLogger {
  logger: Logger;
  /** Every line written so far, in order. */
  readonly lines: LogLine[];
}

/**
 * The kit's real logger (same redaction, same serializers) writing its JSON lines to memory,
 * so a test can assert on what an operator would read.
 */
export function createCapturedLogger({ service = 'test', level = 'info' }: { service?: string; level?: string } = {}): CapturedLogger {
  const lines: LogLine[] = [];
  const destination = {
    write(chunk: string) {
      for (const line of chunk.split('\n')) {
        if (line.trim() !== '') lines.push(JSON.parse(line) as LogLine);
      }
    },
  };
  return { logger: createLogger({ service, level, destination }), lines };
}

/** A logger that writes nothing: for tests that do not look at the logs. */
export function createSilentLogger(service = 'test'): Logger {
  return createLogger({ service, level: 'silent' });
}
