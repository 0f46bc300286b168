import type { Writable } from 'node:stream';
import type { DestinationStream } from 'pino';

/** The most a service holds of log lines its standard output has not taken yet; past it, lines are dropped. */
export const maxHeldLogBytes = 4 * 1024 * 1024;

/** A process's standard output as the destination of its log lines. */
export interface LogSink extends DestinationStream {
  /** Lines dropped since the process started because stdout was not taking them (or was closed). */
  readonly droppedLines: number;
  /**
   * Where the sink says, once stdout takes lines again, how many it dropped meanwhile. The last
   * logger to ask is the one that says it (a service's own logger is made after its start logger).
   */
  reportDropsTo(report: (droppedLines: number) => void): void;
}

/** What the sink uses of a stream: `process.stdout`, or any Writable in a test. */
type Stdout = Pick<Writable, 'writableLength' | 'write' | 'on'>;

/**
 * Log lines go to stdout without ever blocking the event loop, and a reader that stops (a frozen
 * supervisor, a full pipe) costs lines, counted, never the service. Written here rather than
 * taken from pino (`pino.destination`, sonic-boom) because of what was seen with it: with its
 * synchronous writes, a runner stopped with SIGSTOP left orders hanging for as long as the
 * freeze (588 s, deadlines unable to fire), and on thaw the recursive EAGAIN retry overflowed the
 * stack of five services; its asynchronous mode holds lines without a bound that also holds at
 * exit (its exit flush writes synchronously, and waits forever on a reader that never reads).
 *
 * Node's own stdout stream writes to a pipe without blocking (libuv tries the write at once and
 * queues the rest), so this only bounds what it queues: past `maxHeldBytes` a line is dropped.
 * At exit what is still queued is lost, as Node documents, instead of holding the exit up.
 * Lines are written whole, so a reader never sees half of one. On a terminal or a file Node
 * writes synchronously, as pino did.
 */
export function createLogSink(stdout: Stdout = process.stdout, maxHeldBytes = maxHeldLogBytes): LogSink {
  let droppedLines = 0;
  let droppedUnreported = 0;
  let closed = false;
  let report: ((droppedLines: number) => void) | undefined;
  // A closed stdout (EPIPE: the reader is gone) is not a crash of the service: lines are dropped from then on.
  stdout.on('error', () => { closed = true; });
  stdout.on('drain', () => {
    if (droppedUnreported === 0) return;
    const count = droppedUnreported;
    droppedUnreported = 0;
    report?.(count);
  });
  return {
    get droppedLines() {
      return droppedLines;
    },
    reportDropsTo(next) {
      report = next;
    },
    write(line: string) {
      if (closed || stdout.writableLength > maxHeldBytes) {
        droppedLines += 1;
        droppedUnreported += 1;
        return;
      }
      stdout.write(line);
    },
  };
}

let processSink: LogSink | undefined;

/** The one sink of this process's stdout, shared by every logger in it, so their lines never interleave. */
export function stdoutLogSink(): LogSink {
  processSink ??= createLogSink();
  return processSink;
}

/** Lines this process has dropped so far for want of a reader on stdout (0 when nothing logs to stdout). */
export function droppedLogLines(): number {
  return processSink?.droppedLines ?? 0;
}
