import { Code } from './code.ts';

/**
 * The one table between Baton's codes and gRPC status codes (the numbers on the wire in
 * `grpc-status`, and Connect's `Code`). It is one to one: the kit's codes are the gRPC codes by
 * name, so an error crosses a gRPC hop with its meaning unchanged, in both directions. Only the
 * gRPC edge (the kit's gRPC server and client, packages/kit/src/rpc) uses it.
 */
export const grpcStatusByCode: Readonly<Record<Code, number>> = Object.freeze({
  [Code.Canceled]: 1,
  [Code.Unknown]: 2,
  [Code.InvalidArgument]: 3,
  [Code.DeadlineExceeded]: 4,
  [Code.NotFound]: 5,
  [Code.AlreadyExists]: 6,
  [Code.PermissionDenied]: 7,
  [Code.ResourceExhausted]: 8,
  [Code.FailedPrecondition]: 9,
  [Code.Aborted]: 10,
  [Code.OutOfRange]: 11,
  [Code.Unimplemented]: 12,
  [Code.Internal]: 13,
  [Code.Unavailable]: 14,
  [Code.DataLoss]: 15,
  [Code.Unauthenticated]: 16,
});

const codeByGrpcStatus: ReadonlyMap<number, Code> = new Map(
  Object.entries(grpcStatusByCode).map(([code, status]) => [status, code as Code]),
);

/** The gRPC status of a code. */
export function grpcStatusOf(code: Code): number {
  return grpcStatusByCode[code];
}

/**
 * The code of a gRPC status, read back through the same table. OK (0) is no error, and a
 * status outside the standard 1–16 is one nobody can interpret: both read as `unknown`.
 */
export function codeFromGrpcStatus(status: number): Code {
  return codeByGrpcStatus.get(status) ?? Code.Unknown;
}
