/** The methods the kit's client speaks; JSON in, JSON out. */
export type HttpMethod = 'GET' | 'HEAD' | 'OPTIONS' | 'PUT' | 'DELETE' | 'POST' | 'PATCH';

/** The header by which a caller makes a POST or PATCH safe to repeat (the server deduplicates). */
export const idempotencyKeyHeader = 'idempotency-key';

/** On an answer to a keyed request: `true` when it is the stored answer of an earlier one with the key. */
export const idempotentReplayedHeader = 'idempotent-replayed';

// RFC 9110 §9.2.2: repeating these has the same effect as sending them once.
const idempotentMethods: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']);
// Reads change nothing at all, so sending one twice at the same time (hedging) is harmless too.
const readMethods: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Whether a request may be sent again after a failure: an idempotent method, or any method
 * with an idempotency key the server deduplicates on. A POST without one is never repeated,
 * because the first attempt may have taken effect even though its answer was lost.
 *
 * @example
 * isRepeatable('POST', undefined);     // false
 * isRepeatable('POST', 'order-7f3a');  // true
 */
export function isRepeatable(method: HttpMethod, idempotencyKey: string | undefined): boolean {
  return idempotentMethods.has(method) || (idempotencyKey !== undefined && idempotencyKey !== '');
}

/**
 * Whether a request only reads, so a second copy may race the first (hedging). An idempotency
 * key is not enough here: the server would see the two copies at the same time.
 *
 * @example
 * isRead('GET'); // true
 */
export function isRead(method: HttpMethod): boolean {
  return readMethods.has(method);
}
