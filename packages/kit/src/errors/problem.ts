import type { KitError, FieldViolation } from './kit-error.ts';
import { httpStatusOf } from './http-status.ts';

/** An RFC 9457 problem document, as Baton sends it. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance?: string;
  code: string;
  reason?: string;
  request_id?: string;
  errors?: FieldViolation[];
  [extension: string]: unknown;
}

export const problemContentType = 'application/problem+json';

const titles: Record<string, string> = {
  canceled: 'Request canceled',
  unknown: 'Unknown error',
  invalid_argument: 'Invalid request',
  deadline_exceeded: 'Deadline exceeded',
  not_found: 'Not found',
  already_exists: 'Already exists',
  permission_denied: 'Permission denied',
  resource_exhausted: 'Resource exhausted',
  failed_precondition: 'Failed precondition',
  aborted: 'Conflict',
  out_of_range: 'Out of range',
  unimplemented: 'Not implemented',
  internal: 'Internal error',
  unavailable: 'Service unavailable',
  data_loss: 'Data loss',
  unauthenticated: 'Unauthenticated',
};

/** The problem type URI of a code; docs/errors.md documents each one. */
export function problemType(code: string): string {
  return `urn:baton:problem:${code}`;
}

/**
 * Builds the document a caller sees. It is built only from the code and the caller-safe
 * message and details of the KitError: never from its cause or stack.
 */
export function toProblem(error: KitError, context: { instance?: string; requestId?: string } = {}): Problem {
  const problem: Problem = {
    ...error.details,
    type: problemType(error.code),
    title: titles[error.code] ?? 'Error',
    status: httpStatusOf(error.code, error.reason),
    detail: error.message,
    code: error.code,
  };
  if (error.reason !== undefined) problem.reason = error.reason;
  if (context.instance !== undefined) problem.instance = context.instance;
  if (context.requestId !== undefined) problem.request_id = context.requestId;
  if (error.fields.length > 0) problem.errors = error.fields;
  return problem;
}
