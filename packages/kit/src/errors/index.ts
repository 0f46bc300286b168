export { Code, isCode } from './code.ts';
export { KitError, isKitError, type FieldViolation, type KitErrorOptions } from './kit-error.ts';
export { httpStatusByCode, httpStatusByReason, httpStatusOf, codeFromHttpStatus } from './http-status.ts';
export { toProblem, problemType, problemContentType, type Problem } from './problem.ts';
export { grpcStatusByCode, grpcStatusOf, codeFromGrpcStatus } from './grpc-status.ts';
