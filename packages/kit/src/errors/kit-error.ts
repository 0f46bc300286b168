import { Code } from './code.ts';

/** A field-level problem in a request, reported back to the caller as-is. */
export interface FieldViolation {
  /** Where the bad value is, as a JSON-pointer-like path: `body.items[0].quantity`, `query.limit`. */
  field: string;
  message: string;
}

export interface KitErrorOptions {
  cause?: unknown;
  /**
   * A finer, stable reason inside the code (e.g. `body_too_large`, `out_of_stock`).
   * It may choose a more precise HTTP status at the edge; see http-status.ts.
   */
  reason?: string;
  fields?: FieldViolation[];
  /** Extra members for the problem document; only values safe to show a caller. */
  details?: Record<string, unknown>;
  /** Seconds the caller should wait before trying again (503, 429). */
  retryAfterSeconds?: number;
}

/**
 * The one error type of Baton. Its `message` is meant for the caller and must never hold
 * internal detail; the `cause` is kept for the logs and is never sent.
 *
 * @example
 * throw new KitError(Code.NotFound, 'no such product', { details: { sku } });
 * const err = KitError.from(e); if (err.code === Code.Unavailable) { ... }
 */
export class KitError extends Error {
  override readonly name = 'KitError';
  readonly code: Code;
  readonly reason: string | undefined;
  readonly fields: FieldViolation[];
  readonly details: Record<string, unknown>;
  readonly retryAfterSeconds: number | undefined;

  constructor(code: Code, message: string, options: KitErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.reason = options.reason;
    this.fields = options.fields ?? [];
    this.details = options.details ?? {};
    this.retryAfterSeconds = options.retryAfterSeconds;
  }

  /**
   * Normalises anything thrown into a KitError. A KitError passes through; an abort becomes
   * `canceled` or `deadline_exceeded`; everything else is `internal`, with the original kept as
   * `cause` so the log shows it while the caller sees only "internal error".
   */
  static from(thrown: unknown): KitError {
    if (thrown instanceof KitError) return thrown;
    if (thrown instanceof Error && thrown.name === 'TimeoutError') {
      return new KitError(Code.DeadlineExceeded, 'deadline exceeded', { cause: thrown });
    }
    if (thrown instanceof Error && thrown.name === 'AbortError') {
      // An AbortSignal aborted with a KitError as its reason carries the real code.
      if (thrown.cause instanceof KitError) return thrown.cause;
      return new KitError(Code.Canceled, 'the operation was canceled', { cause: thrown });
    }
    return new KitError(Code.Internal, 'internal error', { cause: thrown });
  }
}

export function isKitError(value: unknown): value is KitError {
  return value instanceof KitError;
}
