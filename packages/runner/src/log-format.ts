import { styleText } from 'node:util';
import { prettyFactory } from 'pino-pretty';
import type { LogLine } from './log-line.ts';
import { runnerName } from './log-line.ts';
import { serviceNames } from './services.ts';

/** `json`: one JSON object a line, for machines. `pretty`: coloured and prefixed, for a terminal. */
export type LogFormat = 'json' | 'pretty';

export interface LogFormatterOptions {
  format: LogFormat;
  /** Whether to use ANSI colours in `pretty` (ignored in `json`). */
  colors?: boolean;
}

type Color = Parameters<typeof styleText>[0];

// One colour a service, in list order, so a service keeps its colour from run to run.
const palette: Color[] = ['cyan', 'magenta', 'yellow', 'green', 'blue', 'redBright', 'cyanBright', 'magentaBright'];

function colorOf(service: string): Color {
  if (service === runnerName) return 'white';
  const index = (serviceNames as readonly string[]).indexOf(service);
  return palette[(index < 0 ? 0 : index) % palette.length] ?? 'white';
}

/**
 * Turns one log line into the text to write, newline included.
 *
 * In `json` a JSON line goes through unchanged (the services already name themselves in each
 * line), and any other line is wrapped into a JSON object with `service` and `msg`, so the
 * merged stream stays one JSON object a line. In `pretty` every line gets a `[service]` prefix
 * and JSON lines are rendered by pino-pretty.
 *
 * @example
 * const format = createLogFormatter({ format: 'json' });
 * process.stdout.write(format(line));
 */
export function createLogFormatter({ format, colors = false }: LogFormatterOptions): (line: LogLine) => string {
  if (format === 'json') return formatJson;
  const prettify = prettyFactory({
    colorize: colors,
    translateTime: 'SYS:HH:MM:ss.l',
    // The prefix already names the service; pid and hostname are noise on a developer's screen.
    ignore: 'pid,hostname,service',
    singleLine: true,
  });
  const width = Math.max(runnerName.length, ...serviceNames.map((name) => name.length)) + 2;
  return function formatPretty(line: LogLine): string {
    const label = `[${line.service}]`.padEnd(width);
    const prefix = colors ? styleText(colorOf(line.service), label, { validateStream: false }) : label;
    const body = line.record === undefined ? line.text : prettify(line.record).replace(/\n$/, '');
    return body.split('\n').map((part) => `${prefix} ${part}`).join('\n') + '\n';
  };
}

function formatJson(line: LogLine): string {
  if (line.record !== undefined) return `${line.text}\n`;
  const wrapped = {
    level: line.stream === 'stderr' ? 'warn' : 'info',
    time: new Date().toISOString(),
    service: line.service,
    stream: line.stream,
    msg: line.text,
  };
  return `${JSON.stringify(wrapped)}\n`;
}
