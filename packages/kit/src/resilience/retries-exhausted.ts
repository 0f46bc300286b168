import { KitError } from '../errors/index.ts';

/**
 * The detail that marks an error as final: the layer that threw it already retried (or was not
 * allowed to), so no layer above it may retry again. Without it, three layers that each try
 * three times turn one failing call into 27 calls on the weakest service. It lives in
 * `details`, which the problem document carries, and the HTTP layer also sends it as a header.
 */
export const retriesExhaustedDetail = 'retries_exhausted';

/**
 * A copy of the error marked as final; the original stays its `cause`, for the logs.
 *
 * @example
 * throw markRetriesExhausted(lastError);
 */
export function markRetriesExhausted(error: KitError): KitError {
  if (isRetriesExhausted(error)) return error;
  return new KitError(error.code, error.message, {
    cause: error,
    reason: error.reason,
    fields: error.fields,
    details: { ...error.details, [retriesExhaustedDetail]: true },
    retryAfterSeconds: error.retryAfterSeconds,
  });
}

/**
 * Whether an upstream already spent its retries on this error; the default `shouldRetry`
 * never retries such an error.
 *
 * @example
 * if (isRetriesExhausted(err)) response.headers.set('x-baton-retries-exhausted', '1');
 */
export function isRetriesExhausted(error: unknown): boolean {
  return error instanceof KitError && error.details[retriesExhaustedDetail] === true;
}
