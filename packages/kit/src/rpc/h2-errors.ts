import http2 from 'node:http2';
import { Code, ConnectError } from '@connectrpc/connect';
import { type FailureKind, failureKindOfStreamReset, failureKindOfSystemError } from '../upstream/failures.ts';

// What an HTTP/2 stream's end or a Node.js error means as a gRPC status, for the kit's unary
// paths. The same table as Connect-ES's Node.js transport (its node-error.ts, which its package
// does not export), following gRPC's mapping of HTTP/2 error codes:
// https://github.com/grpc/grpc/blob/master/doc/PROTOCOL-HTTP2.md#errors

const { constants } = http2;

const resetCodes = new Map<number, Code>([
  [constants.NGHTTP2_PROTOCOL_ERROR, Code.Internal],
  [constants.NGHTTP2_INTERNAL_ERROR, Code.Internal],
  [constants.NGHTTP2_FLOW_CONTROL_ERROR, Code.Internal],
  [constants.NGHTTP2_SETTINGS_TIMEOUT, Code.Internal],
  [constants.NGHTTP2_FRAME_SIZE_ERROR, Code.Internal],
  [constants.NGHTTP2_COMPRESSION_ERROR, Code.Internal],
  [constants.NGHTTP2_CONNECT_ERROR, Code.Internal],
  // Refused: the server did not start on it, so another try is safe.
  [constants.NGHTTP2_REFUSED_STREAM, Code.Unavailable],
  [constants.NGHTTP2_CANCEL, Code.Canceled],
  [constants.NGHTTP2_ENHANCE_YOUR_CALM, Code.ResourceExhausted],
  [constants.NGHTTP2_INADEQUATE_SECURITY, Code.PermissionDenied],
  [constants.NGHTTP2_HTTP_1_1_REQUIRED, Code.PermissionDenied],
]);

/** The error an HTTP/2 stream reset with `rstCode` stands for; undefined for NO_ERROR (and STREAM_CLOSED, as gRPC says). */
export function connectErrorFromResetCode(rstCode: number | undefined): ConnectError | undefined {
  const code = rstCode === undefined ? undefined : resetCodes.get(rstCode);
  return code === undefined ? undefined : new ConnectError(`http/2 stream closed with error code 0x${(rstCode ?? 0).toString(16)}`, code);
}

// Node.js error codes by what they say about the call.
const nodeCodes = new Map<string, Code>([
  // The peer went away mid-call: nothing more will come.
  ['ERR_STREAM_DESTROYED', Code.Aborted],
  ['ERR_HTTP2_INVALID_STREAM', Code.Aborted],
  ['ECONNRESET', Code.Aborted],
  // No connection could be made, or the server refused new streams: the call never reached a handler.
  ['ETIMEDOUT', Code.Unavailable],
  ['ENOTFOUND', Code.Unavailable],
  ['EAI_AGAIN', Code.Unavailable],
  ['ECONNREFUSED', Code.Unavailable],
  ['ERR_HTTP2_GOAWAY_SESSION', Code.Unavailable],
]);

/**
 * Any error a Node.js stream or session raised, as a ConnectError with it as the cause (the kit
 * reads the system error's code from there, as `connection_error`); a ConnectError passes.
 */
export function connectErrorFromNode(reason: unknown): ConnectError {
  if (reason instanceof ConnectError) return reason;
  let code = Code.Internal;
  for (let error: unknown = reason, depth = 0; error instanceof Error && depth < 8; error = error.cause, depth++) {
    const nodeCode = (error as { code?: unknown }).code;
    const mapped = typeof nodeCode === 'string' ? nodeCodes.get(nodeCode) : undefined;
    if (mapped !== undefined) {
      code = mapped;
      break;
    }
  }
  const error = ConnectError.from(reason, code);
  if (error !== reason) error.cause = reason;
  return error;
}

// The failure each wire-level ConnectError of the client stands for, named by the unary transport
// where it knows it (a refused connection, a stream the peer reset, a GOAWAY) and judged by the
// upstream's failure table; an error absent here is a status the instance answered.
const transportFailures = new WeakMap<ConnectError, FailureKind>();

/** Marks a ConnectError as a failure on the wire, of this kind. */
export function transportError(kind: FailureKind, error: ConnectError): ConnectError {
  transportFailures.set(error, kind);
  return error;
}

/** The wire failure a ConnectError stands for, if it is one. */
export function transportFailureOf(error: ConnectError): FailureKind | undefined {
  return transportFailures.get(error);
}

/**
 * What the stream's end says went wrong, as the client sees it: a reset by the peer (by its
 * code: REFUSED_STREAM promises the work was not started), or the connection under it failing.
 */
export function streamFailure(rstCode: number | undefined, error: unknown): ConnectError {
  if (rstCode !== undefined && rstCode !== constants.NGHTTP2_NO_ERROR) {
    return transportError(failureKindOfStreamReset(rstCode), connectErrorFromResetCode(rstCode) ?? connectErrorFromNode(error));
  }
  if (error === undefined) return transportError('stream_reset', new ConnectError('http/2 stream closed before the response was complete', Code.Unavailable));
  return transportError(failureKindOfSystemError(error), connectErrorFromNode(error));
}
