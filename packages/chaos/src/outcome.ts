/**
 * What became of one request the load made, as a person would count it:
 * - `ok`: done (2xx);
 * - `refused`: the shop said no for a reason of its own, at once and in words (402 declined, 409
 *   out of stock or a state that forbids it, 429 a limit): correct answers, not failures;
 * - `unavailable`: a dependency was down and the shop said so (503, 504): a failure, but an
 *   honest and fast one, which a client can retry;
 * - `failed`: anything else (500, 502, an unexpected 4xx): what the shop must never answer
 *   for something the network did;
 * - `no-answer`: no status at all (the connection reset, or nothing within the client's own
 *   limit): a hang or a crash the caller sees.
 */
export type Outcome = 'ok' | 'refused' | 'unavailable' | 'failed' | 'no-answer';

export const outcomes: readonly Outcome[] = ['ok', 'refused', 'unavailable', 'failed', 'no-answer'];

/** What a shopper does: look at products, buy one, change their mind. */
export type RequestKind = 'browse' | 'checkout' | 'cancel';

export interface RequestRecord {
  kind: RequestKind;
  /** When it was sent, in ms since the run started. */
  startedAtMs: number;
  tookMs: number;
  /** The HTTP status, 0 for no answer. */
  status: number;
  outcome: Outcome;
}

export function outcomeOf(status: number): Outcome {
  if (status === 0) return 'no-answer';
  if (status >= 200 && status < 300) return 'ok';
  if (status === 402 || status === 409 || status === 429) return 'refused';
  if (status === 503 || status === 504) return 'unavailable';
  return 'failed';
}
