import { Code, KitError } from '../errors/index.ts';
import { isRetriesExhausted } from '../resilience/retries-exhausted.ts';
import type { UpstreamError } from './upstream-error.ts';

/**
 * Every way a call to an upstream can fail, whichever transport carried it. HTTP and gRPC each
 * say which of these happened (their errors differ); this table alone decides what follows.
 */
export type FailureKind =
  // Nothing was sent: no one listens, the name does not resolve, or the connection never opened.
  | 'connection_refused'
  | 'name_not_resolved'
  | 'connect_timeout'
  // Sent, and the connection or the stream died before the answer: the work may have been done.
  | 'connection_reset'
  | 'stream_reset'
  // The instance is going away and said so before it started the work.
  | 'stream_refused'
  | 'goaway'
  | 'shutting_down'
  // This client's own breaker refused, without touching the network.
  | 'circuit_open'
  // Sent; no answer came in time.
  | 'response_timeout'
  // Sent; the caller's own deadline passed before the answer came (not this client's timeout,
  // which is the bound it keeps for the instance): says nothing of the instance.
  | 'caller_deadline'
  // The instance refused this service's own credential (a service token it could not accept:
  // expired, from the future by the signer's clock, signed with a key it does not trust) before
  // doing anything: not the caller's fault, and never the caller's 401.
  | 'credentials_refused'
  // Answers: the instance is up and said this.
  | 'answered_unavailable'
  | 'answered_timeout'
  | 'answered_overloaded'
  | 'answered_internal'
  | 'answered_other'
  | 'bad_response'
  // The request could never have worked: a bug on this side.
  | 'programming_error';

/** What one failure means. */
export interface FailureRow {
  /** The code the caller gets (and through the errors table, the status: 503, 504, 500, ...); undefined: the upstream's own. */
  code: Code | undefined;
  /** The reason the caller gets, for a failure this client detected itself; answers keep the upstream's. */
  reason: string | undefined;
  /**
   * Whether another try may be made: `any` call (the upstream never started the work, so even
   * a POST without a key is safe), only a `repeatable` one (idempotent, or with a key), or `never`.
   */
  retry: 'any' | 'repeatable' | 'never';
  /**
   * What it says of the instance: `down` (nobody there: a fresh connection can probe again at
   * once), `draining` (leaving cleanly: send elsewhere, but do not hold it against it), `failing`
   * (there, and unwell: back off), `healthy` (a working instance's answer), `none` (nothing was learnt).
   */
  instance: 'down' | 'draining' | 'failing' | 'healthy' | 'none';
}

const unavailable = Code.Unavailable;

/**
 * The one table. A dying upstream (refused, reset, a stream cut, GOAWAY) is `unavailable`, so the
 * caller's caller sees 503 with `Retry-After`, never a 500 for something the network did.
 * docs/resilience.md shows it as a table; `failures.test.ts` runs a row at a time on both transports.
 */
export const failureTable: Readonly<Record<FailureKind, FailureRow>> = {
  connection_refused: { code: unavailable, reason: 'connection_refused', retry: 'any', instance: 'down' },
  name_not_resolved: { code: unavailable, reason: 'name_not_resolved', retry: 'any', instance: 'down' },
  connect_timeout: { code: unavailable, reason: 'connect_timeout', retry: 'any', instance: 'down' },
  connection_reset: { code: unavailable, reason: 'connection_reset', retry: 'repeatable', instance: 'failing' },
  stream_reset: { code: unavailable, reason: 'stream_reset', retry: 'repeatable', instance: 'failing' },
  stream_refused: { code: unavailable, reason: 'stream_refused', retry: 'any', instance: 'draining' },
  goaway: { code: unavailable, reason: 'goaway', retry: 'any', instance: 'draining' },
  shutting_down: { code: unavailable, reason: 'shutting_down', retry: 'any', instance: 'draining' },
  circuit_open: { code: unavailable, reason: 'circuit_open', retry: 'any', instance: 'none' },
  response_timeout: { code: Code.DeadlineExceeded, reason: 'timeout', retry: 'repeatable', instance: 'failing' },
  // The caller's own error, its reason kept; never tried again (its time is spent).
  caller_deadline: { code: Code.DeadlineExceeded, reason: undefined, retry: 'never', instance: 'none' },
  // Not tried again: the service's next call goes with a fresh token (the refused one is
  // forgotten, see instance-attempts.ts); one signed by the same wrong clock would be refused too.
  credentials_refused: { code: unavailable, reason: 'credentials_refused', retry: 'never', instance: 'healthy' },
  answered_unavailable: { code: unavailable, reason: undefined, retry: 'repeatable', instance: 'failing' },
  answered_timeout: { code: Code.DeadlineExceeded, reason: undefined, retry: 'repeatable', instance: 'failing' },
  // Retried only when it says when to come back (see isWorthRetrying).
  answered_overloaded: { code: Code.ResourceExhausted, reason: undefined, retry: 'repeatable', instance: 'healthy' },
  answered_internal: { code: Code.Internal, reason: undefined, retry: 'never', instance: 'failing' },
  answered_other: { code: undefined, reason: undefined, retry: 'never', instance: 'healthy' },
  bad_response: { code: Code.Internal, reason: 'bad_response', retry: 'never', instance: 'failing' },
  programming_error: { code: Code.Internal, reason: undefined, retry: 'never', instance: 'none' },
};

const messages: Partial<Record<FailureKind, string>> = {
  connection_refused: 'a dependency could not be reached',
  name_not_resolved: 'a dependency could not be reached',
  connect_timeout: 'a dependency could not be reached',
  connection_reset: 'a dependency failed during the call',
  stream_reset: 'a dependency failed during the call',
  stream_refused: 'a dependency is restarting',
  goaway: 'a dependency is restarting',
  shutting_down: 'a dependency is restarting',
  response_timeout: 'a dependency did not answer in time',
  credentials_refused: 'a dependency refused this service\'s credentials',
  programming_error: 'internal error',
};

// Each KitError this client made for a failure it detected, with its kind: read back by the
// retry, the breaker and the outlier detector, so the three never disagree.
const detected = new WeakMap<KitError, FailureKind>();

/**
 * The KitError for a failure the client detected itself (no answer came): the row's code, reason
 * and a caller-safe message; what happened, and where, in the cause for the log.
 *
 * @example
 * throw failureError('connection_refused', new UpstreamError('users', instance, 'ECONNREFUSED', { cause: thrown }));
 */
export function failureError(kind: FailureKind, cause: UpstreamError, retryAfterSeconds?: number): KitError {
  const row = failureTable[kind];
  const error = new KitError(row.code ?? Code.Unknown, messages[kind] ?? 'a dependency failed', { reason: row.reason, cause, retryAfterSeconds });
  detected.set(error, kind);
  return error;
}

/** Marks an error made elsewhere (the breaker's refusal, an answer's) as being of this kind. */
export function classifyAs<E extends KitError>(error: E, kind: FailureKind): E {
  detected.set(error, kind);
  return error;
}

/**
 * The detail a closing Baton server puts in its refusal, and only there: the promise that it
 * started nothing. A `shutting_down` or `circuit_open` reason alone may be an upstream's own
 * dependency's, passed on after the upstream did part of the work; it is not trusted.
 */
export const notStartedDetail = 'not_started';

/**
 * The kind of any error a call ended with: what the client detected (its own breaker's refusal
 * included), a closing server's refusal that says it started nothing (`notStartedDetail`), or
 * for any other answer, what its code says.
 */
export function failureKindOf(error: KitError): FailureKind {
  // A copy marked retries-exhausted keeps the kind of the error it copies (its cause).
  const kind = detected.get(error) ?? (error.cause instanceof KitError ? detected.get(error.cause) : undefined);
  if (kind !== undefined) return kind;
  switch (error.code) {
    case Code.Unavailable:
      return 'answered_unavailable';
    case Code.DeadlineExceeded:
      return 'answered_timeout';
    case Code.ResourceExhausted:
      return 'answered_overloaded';
    case Code.Internal:
    case Code.Unknown:
    case Code.DataLoss:
      return 'answered_internal';
    default:
      return 'answered_other';
  }
}

/**
 * Whether a failed attempt is worth another: by the table, for the kind of call this is, never
 * for an error an upstream already retried, and for overload only when it said when to return.
 */
export function isWorthRetrying(error: KitError, repeatable: boolean): boolean {
  if (isRetriesExhausted(error)) return false;
  const kind = failureKindOf(error);
  if (kind === 'answered_overloaded' && error.retryAfterSeconds === undefined) return false;
  const { retry } = failureTable[kind];
  return retry === 'any' || (retry === 'repeatable' && repeatable);
}

/** Whether the work was surely never started upstream: another try costs it nothing. */
export function neverReachedUpstream(error: KitError): boolean {
  return !isRetriesExhausted(error) && failureTable[failureKindOf(error)].retry === 'any';
}

/** Whether the failure is an instance leaving cleanly: the call goes elsewhere at once, whatever Retry-After says. */
export function saysInstanceDraining(error: KitError): boolean {
  return failureTable[failureKindOf(error)].instance === 'draining';
}

/** Whether the failure says nothing of the instance's health, either way (its breaker neither trips nor closes). */
export function saysNothingOfInstance(error: KitError): boolean {
  const { instance } = failureTable[failureKindOf(error)];
  return instance === 'draining' || instance === 'none';
}

// What a Baton server answers (401) when it cannot accept a caller's service token
// (auth/service-identity/verifier.ts), before any work.
const serviceTokenRefusedReason = 'service_token_invalid';

/**
 * A refusal, if this answer is one: a closing server's, which promised (`notStartedDetail`) it
 * started nothing; or a refusal of this service's own credential, which its caller hears as a
 * dependency unavailable (503), never as its own 401.
 */
export function classifyRefusal(error: KitError, saidNotStarted: boolean): KitError {
  if (error.code === Code.Unauthenticated && error.reason === serviceTokenRefusedReason) {
    // Another code than the upstream's, so a new error (the upstream's in its cause, for the log).
    const refused = new KitError(Code.Unavailable, messages.credentials_refused ?? 'a dependency failed', { reason: 'credentials_refused', cause: error });
    detected.set(refused, 'credentials_refused');
    return refused;
  }
  return saidNotStarted && error.reason === 'shutting_down' && !isRetriesExhausted(error) ? classifyAs(error, 'shutting_down') : error;
}


/** Whether the failure counts against the instance (its breaker, its ejection). */
export function countsAgainstInstance(error: KitError): boolean {
  const { instance } = failureTable[failureKindOf(error)];
  return instance === 'down' || instance === 'failing';
}

/** Whether the failure says nobody is there at all, so a probe may come as soon as a connection could. */
export function saysInstanceDown(error: KitError): boolean {
  return failureTable[failureKindOf(error)].instance === 'down';
}

// Node.js and undici error codes, by the failure they stand for. undici's own (lib/core/errors.js)
// and the system's (libuv). Not listed: a failure the client cannot name is a reset (the safe
// reading: the work may have been done, and the instance is not to be trusted right now).
const systemCodes = new Map<string, FailureKind>([
  ['ECONNREFUSED', 'connection_refused'],
  ['EHOSTUNREACH', 'connection_refused'],
  ['ENETUNREACH', 'connection_refused'],
  ['EADDRNOTAVAIL', 'connection_refused'],
  ['ENOTFOUND', 'name_not_resolved'],
  ['EAI_AGAIN', 'name_not_resolved'],
  ['UND_ERR_CONNECT_TIMEOUT', 'connect_timeout'],
  // ETIMEDOUT also ends an established connection (keepalive, retransmission): maybe sent.
  ['ETIMEDOUT', 'connection_reset'],
  ['ECONNRESET', 'connection_reset'],
  ['EPIPE', 'connection_reset'],
  ['UND_ERR_SOCKET', 'connection_reset'],
  ['ERR_STREAM_DESTROYED', 'connection_reset'],
  ['ERR_HTTP2_INVALID_STREAM', 'stream_reset'],
  ['ERR_HTTP2_STREAM_ERROR', 'stream_reset'],
  ['ERR_HTTP2_SESSION_ERROR', 'connection_reset'],
  ['ERR_HTTP2_GOAWAY_SESSION', 'goaway'],
  ['ERR_HTTP2_STREAM_CANCEL', 'stream_reset'],
  ['UND_ERR_HEADERS_TIMEOUT', 'response_timeout'],
  ['UND_ERR_BODY_TIMEOUT', 'response_timeout'],
  ['UND_ERR_INVALID_ARG', 'programming_error'],
  ['UND_ERR_INVALID_RETURN_VALUE', 'programming_error'],
  ['UND_ERR_NOT_SUPPORTED', 'programming_error'],
  // The answer's headers were too large: it was sent, and the answer is what failed.
  ['UND_ERR_HEADERS_OVERFLOW', 'bad_response'],
]);

/** The kind of failure a Node.js or undici error stands for, looking through its causes. */
export function failureKindOfSystemError(thrown: unknown): FailureKind {
  for (let error: unknown = thrown, depth = 0; typeof error === 'object' && error !== null && depth < 8; error = (error as { cause?: unknown }).cause, depth++) {
    const code = (error as { code?: unknown }).code;
    const kind = typeof code === 'string' ? systemCodes.get(code) : undefined;
    if (kind !== undefined) return kind;
  }
  return 'connection_reset';
}

// HTTP/2 RST_STREAM codes (RFC 9113 §7). REFUSED_STREAM promises the stream was not processed.
const REFUSED_STREAM = 0x7;
const ENHANCE_YOUR_CALM = 0xb;

/** The kind of failure an HTTP/2 stream reset by the peer stands for. */
export function failureKindOfStreamReset(rstCode: number): FailureKind {
  if (rstCode === REFUSED_STREAM) return 'stream_refused';
  if (rstCode === ENHANCE_YOUR_CALM) return 'answered_overloaded';
  return 'stream_reset';
}

/** A short description of what was seen, for the cause. */
export function describeSystemError(thrown: unknown): string {
  const code = (thrown as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : thrown instanceof Error ? thrown.message : 'transport error';
}
