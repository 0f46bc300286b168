import type { ResponseHeaders } from './response.ts';
import { type Code, KitError, isCode, problemContentType } from '../errors/index.ts';
import { codeFromHttpStatus } from '../errors/http-status.ts';
import { markRetriesExhausted, retriesExhaustedDetail } from '../resilience/retries-exhausted.ts';
import { hopDetailsOf } from '../upstream/deadline-hop.ts';
import { carriesNoRetry } from '../upstream/no-retry.ts';
import { parseRetryAfter } from '../upstream/retry-after.ts';
import { UpstreamError } from '../upstream/upstream-error.ts';
import { classifyRefusal, notStartedDetail } from '../upstream/failures.ts';
import { boundedMessage, callerMessageOf, isBatonReason } from '../upstream/caller-words.ts';


/** Whether a response says it holds a problem document (RFC 9457). */
export function isProblemResponse(headers: ResponseHeaders): boolean {
  const type = headers['content-type'];
  return typeof type === 'string' && type.toLowerCase().startsWith(problemContentType);
}

export interface ErrorResponse {
  upstream: string;
  instance: string;
  status: number;
  headers: ResponseHeaders;
  /** The parsed problem document, when the response carried a readable one. */
  problem: unknown;
}

/**
 * Turns an upstream's non-2xx answer into the KitError its caller sees, using only the kit's
 * table (`codeFromHttpStatus`) and what a Baton problem document declares caller-safe:
 * - a problem with a valid `code` keeps that code, its `detail` (the upstream's caller-safe
 *   message) and its `reason`, and an expired deadline its `hop` (see `hopDetailsOf`); its
 *   other members stay in the cause, for the log;
 * - anything else gets the code of its status and a generic message;
 * - `Retry-After` becomes `retryAfterSeconds`;
 * - `x-baton-no-retry: 1` (or `retries_exhausted` in the problem) marks it retries-exhausted,
 *   so no layer on this side retries it again.
 *
 * @example
 * const error = errorFromResponse({ upstream: 'catalog', instance, status: 503, headers, problem });
 */
export function errorFromResponse({ upstream, instance, status, headers, problem }: ErrorResponse): KitError {
  const cause = new UpstreamError(upstream, instance, `answered ${status}`, { status, received: problem });
  const retryAfterSeconds = parseRetryAfter(headers['retry-after']);
  const declared = asBatonProblem(problem);
  const code = declared?.code ?? codeFromHttpStatus(status);
  const error = new KitError(code, declared?.detail ?? callerMessageOf(code), {
    cause,
    // The upstream's "your budget was spent when you arrived" is, on this side, this call's
    // deadline run out on the way: an expired deadline naming the hop, not the caller's 408.
    reason: declared?.reason === 'deadline_spent' ? undefined : declared?.reason,
    retryAfterSeconds,
    details: declared === undefined ? undefined : hopDetailsOf(code, problem),
  });
  const exhausted = carriesNoRetry(headers) || (declared !== undefined && declared.exhausted);
  return exhausted ? markRetriesExhausted(error) : classifyRefusal(error, declared?.notStarted === true);
}

interface BatonProblem {
  code: Code;
  detail: string | undefined;
  reason: string | undefined;
  exhausted: boolean;
  /** A closing server's promise that it started nothing (`notStartedDetail`). */
  notStarted: boolean;
}

// Only a document that names a valid code is a Baton problem whose detail is meant for callers;
// a proxy's or a foreign service's problem document may say anything.
function asBatonProblem(problem: unknown): BatonProblem | undefined {
  if (typeof problem !== 'object' || problem === null) return undefined;
  const p = problem as Record<string, unknown>;
  if (!isCode(p.code)) return undefined;
  const detail = typeof p.detail === 'string' && p.detail.trim() !== '' ? boundedMessage(p.detail) : undefined;
  const reason = isBatonReason(p.reason) ? p.reason : undefined;
  return { code: p.code, detail, reason, exhausted: p[retriesExhaustedDetail] === true, notStarted: p[notStartedDetail] === true };
}
