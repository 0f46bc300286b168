import { Code } from './code.ts';

/**
 * The one table that turns a code into an HTTP status. Only the edge (the HTTP server's
 * error handler, and the HTTP client reading an upstream's answer) uses it.
 */
export const httpStatusByCode: Readonly<Record<Code, number>> = Object.freeze({
  [Code.Canceled]: 499,
  [Code.Unknown]: 500,
  [Code.InvalidArgument]: 400,
  [Code.DeadlineExceeded]: 504,
  [Code.NotFound]: 404,
  [Code.AlreadyExists]: 409,
  [Code.PermissionDenied]: 403,
  [Code.ResourceExhausted]: 429,
  // The request is well formed but the state it names forbids it (an idempotency key
  // reused with another body, for example): 422 says exactly that.
  [Code.FailedPrecondition]: 422,
  [Code.Aborted]: 409,
  [Code.OutOfRange]: 400,
  [Code.Unimplemented]: 501,
  [Code.Internal]: 500,
  [Code.Unavailable]: 503,
  [Code.DataLoss]: 500,
  [Code.Unauthenticated]: 401,
});

/**
 * A few reasons that HTTP can say more precisely than their code. The code stays what it is
 * (a gRPC caller sees RESOURCE_EXHAUSTED for a too-large body); only the HTTP status sharpens.
 */
export const httpStatusByReason: Readonly<Record<string, number>> = Object.freeze({
  body_too_large: 413,
  unsupported_media_type: 415,
  // An upload whose bytes are not an image media takes, whatever its Content-Type said.
  not_an_image: 415,
  not_acceptable: 406,
  method_not_allowed: 405,
  uri_too_long: 414,
  headers_too_large: 431,
  request_timeout: 408,
  expectation_failed: 417,
  // The request came after its own deadline: nothing failed here, the caller ran out of time
  // before sending (and from the internet, chose a budget of 0). Not a 5xx, which would blame
  // the server; gRPC callers still see DEADLINE_EXCEEDED.
  deadline_spent: 408,
  // An event feed read from a position whose events were pruned (past the retention): gone for good.
  feed_position_pruned: 410,
  // A Range wholly past the end of what it asks for (an image's bytes); the answer says the size.
  range_not_satisfiable: 416,
  // A card its issuer declined: HTTP's Payment Required; gRPC callers see FAILED_PRECONDITION.
  payment_declined: 402,
  // A store with no room left (a disk full, a quota spent): nothing was kept. WebDAV's 507
  // (RFC 4918 §11.5) says exactly this; gRPC callers see RESOURCE_EXHAUSTED.
  storage_full: 507,
});

export function httpStatusOf(code: Code, reason?: string): number {
  return (reason !== undefined ? httpStatusByReason[reason] : undefined) ?? httpStatusByCode[code];
}

/** The reverse direction, used when an upstream answers with a status and no problem body. */
export function codeFromHttpStatus(status: number): Code {
  switch (status) {
    case 400: return Code.InvalidArgument;
    case 401: return Code.Unauthenticated;
    case 403: return Code.PermissionDenied;
    case 404: return Code.NotFound;
    case 408: return Code.DeadlineExceeded;
    case 409: return Code.Aborted;
    case 413: return Code.ResourceExhausted;
    case 422: return Code.FailedPrecondition;
    case 429: return Code.ResourceExhausted;
    case 499: return Code.Canceled;
    case 501: return Code.Unimplemented;
    case 502: return Code.Unavailable;
    case 503: return Code.Unavailable;
    case 504: return Code.DeadlineExceeded;
    case 507: return Code.ResourceExhausted;
    default:
      if (status >= 500) return Code.Internal;
      if (status >= 400) return Code.InvalidArgument;
      return Code.Unknown;
  }
}
