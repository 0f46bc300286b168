import type { ResponseHeaders } from '../http/response.ts';
import type { KitError } from '../errors/index.ts';
import { isRetriesExhausted } from '../resilience/retries-exhausted.ts';

/**
 * The response header by which a server tells its caller "do not retry this": the error came
 * from a dependency that this server (or one further down) already retried. Without it every
 * layer retries on its own, and a failing leaf three hops down sees 3 × 3 × 3 = 27 attempts
 * for one user request instead of 3.
 */
export const noRetryHeader = 'x-baton-no-retry';

/**
 * Whether a server's error response must carry `x-baton-no-retry: 1`. The server's error
 * handler asks this of every error it sends.
 *
 * @example
 * if (shouldMarkNoRetry(kitError)) reply.header(noRetryHeader, '1');
 */
export function shouldMarkNoRetry(error: KitError): boolean {
  return isRetriesExhausted(error);
}

/**
 * Whether an upstream's response says it must not be retried.
 *
 * @example
 * if (carriesNoRetry(response.headers)) error = markRetriesExhausted(error);
 */
export function carriesNoRetry(headers: ResponseHeaders): boolean {
  const value = headers[noRetryHeader];
  return value === '1' || (Array.isArray(value) && value.includes('1'));
}
