import type { ConsoleLogLine } from './console-stack.ts';

/** A log line as the console shows it. */
export interface ShownLine {
  /** Increasing, so a reader can ask for what came after the last it saw. */
  seq: number;
  service: string;
  level: string;
  time: string;
  msg: string;
  /** The line as written (a JSON record, or a program's plain output). */
  text: string;
}

export interface LogFilter {
  service?: string | undefined;
  /** This level and above. */
  level?: string | undefined;
  /** Words anywhere in the line, any case. */
  text?: string | undefined;
}

const levels = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'];
// pino writes its levels as numbers unless told otherwise: 10 trace … 60 fatal.
const levelOf = (value: unknown): string => (typeof value === 'number' ? levels[Math.min(5, Math.max(0, Math.floor(value / 10) - 1))] ?? 'info' : typeof value === 'string' ? value : 'info');

/**
 * The last lines of every process, in memory, and everyone watching them live. Bounded per
 * service, so a chatty one cannot push a quiet one's lines out.
 */
export function createLogHub({ perService = 1_000 }: { perService?: number } = {}) {
  const lines = new Map<string, ShownLine[]>();
  const watchers = new Set<{ filter: LogFilter; send: (line: ShownLine) => void }>();
  let seq = 0;

  const matches = (line: ShownLine, { service, level, text }: LogFilter) =>
    (service === undefined || line.service === service)
    && (level === undefined || levels.indexOf(line.level) >= levels.indexOf(level))
    && (text === undefined || line.text.toLowerCase().includes(text.toLowerCase()));

  return {
    add(line: ConsoleLogLine): void {
      const shown: ShownLine = {
        seq: ++seq,
        service: line.service,
        level: levelOf(line.record?.level),
        time: typeof line.record?.time === 'string' ? line.record.time : typeof line.record?.time === 'number' ? new Date(line.record.time).toISOString() : new Date().toISOString(),
        msg: typeof line.record?.msg === 'string' ? line.record.msg : line.text,
        text: line.text.length > 4_000 ? `${line.text.slice(0, 4_000)}…` : line.text,
      };
      const list = lines.get(line.service) ?? [];
      list.push(shown);
      if (list.length > perService) list.shift();
      lines.set(line.service, list);
      for (const watcher of watchers) if (matches(shown, watcher.filter)) watcher.send(shown);
    },
    /** The last `limit` lines that match, oldest first. */
    last(filter: LogFilter, limit: number): ShownLine[] {
      const from = filter.service === undefined ? [...lines.values()].flat() : lines.get(filter.service) ?? [];
      return from.filter((line) => matches(line, filter)).sort((a, b) => a.seq - b.seq).slice(-limit);
    },
    /** Calls `send` with each new line that matches, until the returned function is called. */
    watch(filter: LogFilter, send: (line: ShownLine) => void): () => void {
      const watcher = { filter, send };
      watchers.add(watcher);
      return () => watchers.delete(watcher);
    },
  };
}

export type LogHub = ReturnType<typeof createLogHub>;
