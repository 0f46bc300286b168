/**
 * The closed set of error codes every Baton error carries.
 *
 * They are the gRPC status codes, one to one, spelled the way Connect spells them, so an
 * error keeps its meaning whether it crossed HTTP/JSON, gRPC or a message broker.
 * Code decides behaviour (retry? trip the breaker? which HTTP status?); messages never do.
 */
export const Code = {
  Canceled: 'canceled',
  Unknown: 'unknown',
  InvalidArgument: 'invalid_argument',
  DeadlineExceeded: 'deadline_exceeded',
  NotFound: 'not_found',
  AlreadyExists: 'already_exists',
  PermissionDenied: 'permission_denied',
  ResourceExhausted: 'resource_exhausted',
  FailedPrecondition: 'failed_precondition',
  Aborted: 'aborted',
  OutOfRange: 'out_of_range',
  Unimplemented: 'unimplemented',
  Internal: 'internal',
  Unavailable: 'unavailable',
  DataLoss: 'data_loss',
  Unauthenticated: 'unauthenticated',
} as const;

export type Code = (typeof Code)[keyof typeof Code];

const allCodes = new Set<string>(Object.values(Code));

export function isCode(value: unknown): value is Code {
  return typeof value === 'string' && allCodes.has(value);
}
