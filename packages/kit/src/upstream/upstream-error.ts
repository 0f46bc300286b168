/**
 * The `cause` of every KitError the client makes from an upstream's failure. It holds what the
 * operator needs in the log (which upstream, which instance, the status, the problem document
 * as received) and never reaches the caller: KitError's message stays caller-safe.
 *
 * @example
 * logger.error({ err }, 'catalog call failed'); // err.cause.upstream, err.cause.status, ...
 */
export class UpstreamError extends Error {
  override readonly name = 'UpstreamError';
  readonly upstream: string;
  readonly instance: string;
  /** The HTTP status, when the upstream answered at all. */
  readonly status: number | undefined;
  /** The upstream's problem document (or the start of its body), for the log only. */
  readonly received: unknown;

  constructor(upstream: string, instance: string, message: string, options: { status?: number; received?: unknown; cause?: unknown } = {}) {
    super(`${upstream} (${instance}): ${message}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.upstream = upstream;
    this.instance = instance;
    this.status = options.status;
    this.received = options.received;
  }
}
