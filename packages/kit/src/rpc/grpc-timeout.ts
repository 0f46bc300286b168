import { maxBudgetMs } from '../resilience/deadline.ts';

/** The header a gRPC caller sends its budget in: digits and a unit, `1995m` for 1995 ms. */
export const grpcTimeoutHeader = 'grpc-timeout';
/** The Connect protocol's equivalent: whole milliseconds. */
export const connectTimeoutHeader = 'connect-timeout-ms';

// gRPC over HTTP/2's Timeout: at most 8 digits and a unit (hours down to nanoseconds). Read here
// rather than with Connect-ES's parseTimeout, which is private to Connect (see connect-internals.ts).
const grpcTimeoutPattern = /^(\d{1,8})([HMSmun])$/;
const msPerUnit: Record<string, number> = { H: 3_600_000, M: 60_000, S: 1_000, m: 1, u: 0.001, n: 0.000_001 };

/**
 * The `grpc-timeout` value for a budget: what remains minus a margin for the trip over the
 * network (as `formatBudget` does for HTTP), in whole milliseconds, never below 0 and never above
 * the kit's longest budget. Relative, so the two hosts' clocks never need to agree.
 *
 * @example
 * header.set(grpcTimeoutHeader, formatGrpcTimeout(remainingMs)); // '1995m' for 2000 left
 */
export function formatGrpcTimeout(remainingMs: number, marginMs = 5): string {
  const budgetMs = Number.isNaN(remainingMs) ? 0 : Math.floor(remainingMs - marginMs);
  return `${Math.min(maxBudgetMs, Math.max(0, budgetMs))}m`;
}

/**
 * The budget a caller sent, in whole milliseconds (a fraction of one counts as spent), from
 * `grpc-timeout` or `connect-timeout-ms`; undefined when it sent none, or garbage, so the
 * server's own maximum applies. Connect itself answers INVALID_ARGUMENT to a malformed one.
 *
 * @example
 * const receivedMs = requestedBudgetMs(req.header);
 */
export function requestedBudgetMs(header: Headers): number | undefined {
  const grpc = header.get(grpcTimeoutHeader);
  if (grpc !== null) {
    const match = grpcTimeoutPattern.exec(grpc);
    if (match === null) return undefined;
    return Math.min(Math.floor(Number(match[1]) * (msPerUnit[match[2] as string] as number)), maxBudgetMs);
  }
  const connect = header.get(connectTimeoutHeader);
  if (connect !== null && /^\d{1,10}$/.test(connect)) return Math.min(Number(connect), maxBudgetMs);
  return undefined;
}
