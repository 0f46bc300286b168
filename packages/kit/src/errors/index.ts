export { Code, isCode } from './code.ts';
export { KitError, type FieldViolation, type KitErrorOptions } from './kit-error.ts';
export { httpStatusByReason, httpStatusOf } from './http-status.ts';
export { toProblem, problemContentType, type Problem } from './problem.ts';
