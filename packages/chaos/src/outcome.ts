/**
 * What became of one request the load made, as a person would count it:
 * - `ok`: done (2xx);
 * - `refused`: the shop said no for a reason of its own, at once and in words (402 declined, 409
 *   out of stock or a state that forbids it, 429 a limit): correct answers, not failures;
 * - `unavailable`: a dependency was down and the shop said so (503, 504), or its storage was
 *   full (507): a failure, but an honest and fast one, which a client can retry later;
 * - `failed`: anything else (500, 502, an unexpected 4xx): what the shop must never answer
 *   for something the network did;
 * - `unreachable`: the connection refused: nothing listens where the shop's entry should be.
 *   Fast and plain, as a 503 is, but the entry itself is down: only a scenario that takes the
 *   entry down (the gateway, or the runner with everything) may see it;
 * - `no-answer`: no status at all (the connection reset, or nothing within the client's own
 *   limit): a hang or a crash the caller sees.
 */
export type Outcome = 'ok' | 'refused' | 'unavailable' | 'failed' | 'unreachable' | 'no-answer';

export const outcomes: readonly Outcome[] = ['ok', 'refused', 'unavailable', 'failed', 'unreachable', 'no-answer'];

/** What a shopper does: sign in, look at products, buy one, change their mind; and what the shop's staff does: add a product's picture. */
export type RequestKind = 'sign-in' | 'browse' | 'checkout' | 'cancel' | 'upload';

export interface RequestRecord {
  kind: RequestKind;
  /** When it was sent, in ms since the run started. */
  startedAtMs: number;
  tookMs: number;
  /** The HTTP status, 0 for no answer. */
  status: number;
  outcome: Outcome;
}

/** A request's outcome from its status (0: none), and, for no status, whether its connection was refused. */
export function outcomeOf(status: number, { connectionRefused = false }: { connectionRefused?: boolean } = {}): Outcome {
  if (status === 0) return connectionRefused ? 'unreachable' : 'no-answer';
  if (status >= 200 && status < 300) return 'ok';
  if (status === 402 || status === 409 || status === 429) return 'refused';
  if (status === 503 || status === 504 || status === 507) return 'unavailable';
  return 'failed';
}
