export interface CallOptions {
  /** The request's deadline and cancellation: every call stops when it fires. */
  signal: AbortSignal;
  requestId?: string;
}
