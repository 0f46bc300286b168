import { create } from '@bufbuild/protobuf';
import type { JsonObject } from '@bufbuild/protobuf';
import { ConnectError } from '@connectrpc/connect';
import { ErrorDetailSchema } from '@baton/contracts/kit/v1';
import { Code, KitError } from '../errors/index.ts';
import { codeFromGrpcStatus, grpcStatusOf } from '../errors/grpc-status.ts';
import { UpstreamError } from '../upstream/upstream-error.ts';
import { boundedMessage, callerMessageOf, isBatonReason } from '../upstream/caller-words.ts';
import { classifyRefusal, failureKindOfSystemError, failureTable, notStartedDetail } from '../upstream/failures.ts';
import { hopDetailsOf } from '../upstream/deadline-hop.ts';
import { noRetryHeader } from '../upstream/no-retry.ts';
import { isRetriesExhausted, markRetriesExhausted, retriesExhaustedDetail } from '../resilience/retries-exhausted.ts';


/**
 * The gRPC status a Baton server answers with for a KitError: its code through the one table
 * (errors/grpc-status.ts), its caller-safe message, and the rest of it (reason, details, field
 * violations, when to come back) as a `baton.kit.v1.ErrorDetail`. Never its cause or stack.
 * An error an upstream already retried also carries `x-baton-no-retry: 1` in the trailers, as
 * over HTTP, so no layer above retries it again.
 *
 * @example
 * throw toConnectError(KitError.from(thrown));
 */
export function toConnectError(error: KitError): ConnectError {
  const detail = create(ErrorDetailSchema, {
    reason: error.reason ?? '',
    // Through JSON, so a Date or an undefined in details cannot break the encoding.
    details: JSON.parse(JSON.stringify(error.details)) as JsonObject,
    fields: error.fields.map(({ field, message }) => ({ field, message })),
    retryAfterSeconds: error.retryAfterSeconds === undefined ? 0 : Math.max(0, Math.ceil(error.retryAfterSeconds)),
  });
  const metadata = new Headers();
  if (isRetriesExhausted(error)) metadata.set(noRetryHeader, '1');
  return new ConnectError(error.message, grpcStatusOf(error.code), metadata, [{ desc: ErrorDetailSchema, value: detail }]);
}

/**
 * Whatever a gRPC handler threw, as a KitError: a KitError passes; Connect's own errors (a bad
 * grpc-timeout, an unimplemented method, a malformed message) keep their code and message,
 * which Connect writes for callers; anything else is `internal`, its detail kept for the log.
 */
export function kitErrorFromHandler(thrown: unknown): KitError {
  if (thrown instanceof KitError) return thrown;
  if (thrown instanceof ConnectError) {
    if (thrown.cause instanceof KitError) return thrown.cause;
    return new KitError(codeFromGrpcStatus(thrown.code), boundedMessage(thrown.rawMessage), { cause: thrown });
  }
  return KitError.from(thrown);
}

/**
 * The KitError a caller sees for a gRPC error from an upstream, using only the kit's table and
 * what a Baton server declares caller-safe:
 * - the status's code, always (the table is one to one);
 * - with a `baton.kit.v1.ErrorDetail` (a Baton server said it): its message and reason, its
 *   retry-after, and an expired deadline's `hop` (see `hopDetailsOf`); its other details and
 *   field violations stay in the cause, for the log and for a caller that knows what to copy
 *   (orders copies `unavailable` of an out-of-stock answer);
 * - without one (a proxy, a foreign server, the transport): a generic message for the code;
 * - `x-baton-no-retry: 1` or `retries_exhausted` marks it retries-exhausted.
 *
 * @example
 * const error = kitErrorFromConnect(ConnectError.from(thrown), 'inventory', instance);
 */
export function kitErrorFromConnect(error: ConnectError, upstream: string, instance: string): KitError {
  const code = codeFromGrpcStatus(error.code);
  const [detail] = error.findDetails(ErrorDetailSchema);
  const received = detail === undefined ? undefined : {
    ...detail.details,
    ...(detail.reason === '' ? {} : { reason: detail.reason }),
    ...(detail.fields.length === 0 ? {} : { errors: detail.fields.map(({ field, message }) => ({ field, message })) }),
  };
  const cause = new UpstreamError(upstream, instance, `answered ${code}`, { received, cause: error });
  const message = detail !== undefined && error.rawMessage.trim() !== '' ? boundedMessage(error.rawMessage) : callerMessageOf(code);
  const reason = detail !== undefined && isBatonReason(detail.reason) ? detail.reason : transportReasonOf(error);
  const kitError = new KitError(code, message, {
    cause,
    reason,
    retryAfterSeconds: detail !== undefined && detail.retryAfterSeconds > 0 ? detail.retryAfterSeconds : undefined,
    details: hopDetailsOf(code, received),
  });
  const exhausted = error.metadata.get(noRetryHeader) === '1' || detail?.details?.[retriesExhaustedDetail] === true;
  return exhausted ? markRetriesExhausted(kitError) : classifyRefusal(kitError, detail?.details?.[notStartedDetail] === true);
}

// Connect reports a connection it could not make or lost as `unavailable` with the system
// error as its cause (ECONNREFUSED, ECONNRESET, ...): the failure table's reason for it, as the
// HTTP client gives.
function transportReasonOf(error: ConnectError): string | undefined {
  const systemCode = (error.cause as { code?: unknown } | undefined)?.code;
  return error.code === grpcStatusOf(Code.Unavailable) && typeof systemCode === 'string' ? failureTable[failureKindOfSystemError(error.cause)].reason : undefined;
}
