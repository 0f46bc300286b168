import type { FastifyBaseLogger } from 'fastify';
import type { Bindings, ChildLoggerOptions, LevelWithSilentOrString, LogFn } from 'pino';

type Level = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';

/**
 * `request.log`, made only when something is written through it. Fastify gives every request a
 * child of the service's logger bound to its id, and pino's `child` runs the redaction paths over
 * the bindings and serializes them, whether or not a line is ever written: about a tenth of a kit
 * service's CPU per request when nothing is logged (issue 18, `bench/profile/server-overhead.ts`).
 * Written here because it is a deferral of one pino call, not something a library offers: the
 * child is pino's own, made the first time a line at an enabled level (or a child of it, or its
 * level or bindings) is asked for, and every line after goes straight to it.
 */
export class LazyRequestLogger implements FastifyBaseLogger {
  readonly #parent: FastifyBaseLogger;
  readonly #bindings: Bindings;
  readonly #options: ChildLoggerOptions;
  #made: FastifyBaseLogger | undefined;

  constructor(parent: FastifyBaseLogger, bindings: Bindings, options: ChildLoggerOptions) {
    this.#parent = parent;
    this.#bindings = bindings;
    this.#options = options;
  }

  #child(): FastifyBaseLogger {
    this.#made ??= this.#parent.child(this.#bindings, this.#options);
    return this.#made;
  }

  #enabled(level: Level): boolean {
    // pino's loggers say; a logger that cannot is written to, as Fastify would.
    const logger = (this.#made ?? this.#parent) as FastifyBaseLogger & { isLevelEnabled?: (level: string) => boolean };
    return logger.isLevelEnabled?.(level) ?? true;
  }

  get level(): LevelWithSilentOrString {
    return (this.#made ?? this.#parent).level;
  }

  set level(level: LevelWithSilentOrString) {
    this.#child().level = level;
  }

  isLevelEnabled(level: LevelWithSilentOrString): boolean {
    return this.#enabled(level as Level);
  }

  // Methods, as pino's are, not a closure per level on every request's logger.
  fatal(...args: Parameters<LogFn>): void {
    this.#write('fatal', args);
  }

  error(...args: Parameters<LogFn>): void {
    this.#write('error', args);
  }

  warn(...args: Parameters<LogFn>): void {
    this.#write('warn', args);
  }

  info(...args: Parameters<LogFn>): void {
    this.#write('info', args);
  }

  debug(...args: Parameters<LogFn>): void {
    this.#write('debug', args);
  }

  trace(...args: Parameters<LogFn>): void {
    this.#write('trace', args);
  }

  silent(): void {}

  #write(level: Level, args: Parameters<LogFn>): void {
    if (!this.#enabled(level)) return;
    (this.#child()[level] as (...line: Parameters<LogFn>) => void)(...args);
  }

  child(bindings: Bindings, options?: ChildLoggerOptions): FastifyBaseLogger {
    return this.#child().child(bindings, options);
  }

  bindings(): Bindings {
    const child = this.#child() as FastifyBaseLogger & { bindings?: () => Bindings };
    return child.bindings?.() ?? this.#bindings;
  }
}

/** Fastify's `childLoggerFactory`: each request's logger, made when first written to. */
export function lazyRequestLoggers(logger: FastifyBaseLogger, bindings: Bindings, options: ChildLoggerOptions): FastifyBaseLogger {
  return new LazyRequestLogger(logger, bindings, options);
}
