import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Code, KitError, problemContentType, toProblem, type FieldViolation, type Problem } from '../errors/index.ts';
import { noRetryHeader, shouldMarkNoRetry } from '../upstream/no-retry.ts';
import { authenticateChallenge } from './www-authenticate.ts';

/**
 * Turns whatever a route or Fastify itself threw into a KitError. Fastify's own 4xx errors
 * (bad JSON, too large, wrong content type, schema validation) keep their meaning; anything
 * else is an internal error whose detail stays in the log.
 */
export function kitErrorFromFastify(error: unknown): KitError {
  if (error instanceof KitError) return error;
  const fe = error as Partial<FastifyError> & { validation?: unknown[]; validationContext?: string };
  if (Array.isArray(fe.validation)) {
    return new KitError(Code.InvalidArgument, 'the request is not valid', {
      fields: fe.validation.map((issue) => fieldViolationOf(issue, fe.validationContext)),
      cause: error,
    });
  }
  switch (fe.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new KitError(Code.ResourceExhausted, 'the request body is too large', { reason: 'body_too_large', cause: error });
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new KitError(Code.InvalidArgument, 'this content type is not accepted', { reason: 'unsupported_media_type', cause: error });
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new KitError(Code.InvalidArgument, 'the request body is empty', { fields: [{ field: 'body', message: 'required' }], cause: error });
    case 'FST_ERR_BAD_URL':
      return new KitError(Code.InvalidArgument, 'the request path is not valid (a percent-encoding that is not UTF-8?)', {
        reason: 'bad_path', fields: [{ field: 'path', message: 'not valid UTF-8 once decoded' }], cause: error,
      });
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return new KitError(Code.InvalidArgument, 'a segment of the request path is too long', { reason: 'uri_too_long', fields: [{ field: 'path', message: 'too long' }], cause: error });
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new KitError(Code.InvalidArgument, 'the request body is not valid JSON', { fields: [{ field: 'body', message: 'not valid JSON' }], cause: error });
    default:
      break;
  }
  if (error instanceof SyntaxError && fe.statusCode === 400) {
    return new KitError(Code.InvalidArgument, 'the request body is not valid JSON', { fields: [{ field: 'body', message: 'not valid JSON' }], cause: error });
  }
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500 && fe.code?.startsWith('FST_')) {
    return new KitError(Code.InvalidArgument, 'the request is not valid', { cause: error });
  }
  return KitError.from(error);
}

/** `<code>: <message>` of an error's cause that came from outside the kit; undefined otherwise. */
function causeText(cause: unknown): string | undefined {
  if (!(cause instanceof Error) || cause instanceof KitError || cause.name === 'TimeoutError' || cause.name === 'AbortError') return undefined;
  const { code } = cause as { code?: unknown };
  return typeof code === 'string' ? `${code}: ${cause.message}` : cause.message;
}

function fieldViolationOf(issue: unknown, context: string | undefined): FieldViolation {
  // Both shapes are read: zod's issues as fastify-type-provider-zod reports them, and ajv's.
  const i = issue as {
    instancePath?: string;
    message?: string;
    params?: { missingProperty?: string; additionalProperty?: string; keys?: string[] };
  };
  const segments = (i.instancePath ?? '').split('/').filter(Boolean);
  if (i.params?.missingProperty) segments.push(i.params.missingProperty);
  if (i.params?.additionalProperty) segments.push(i.params.additionalProperty);
  if (Array.isArray(i.params?.keys) && i.params.keys.length > 0) segments.push(i.params.keys.join(','));
  const root = context === 'querystring' ? 'query' : (context ?? 'body');
  return { field: [root, ...segments].join('.'), message: i.message ?? 'invalid' };
}

/**
 * How a service words its problem documents for its callers. Services speak the kit's codes to
 * one another; the public edge (the gateway) says them in its API's own words. It may change
 * the members, never the status: the code decided that, once.
 */
export type ProblemPresenter = (problem: Problem, error: KitError) => Problem;

// On the app itself, so every route's request finds it (an encapsulated plugin's instance
// inherits its parent's properties), wherever sendProblem is called from.
const presenterKey = Symbol('baton.problemPresenter');

function presenterOf(request: FastifyRequest): ProblemPresenter | undefined {
  return (request.server as unknown as { [presenterKey]?: ProblemPresenter })[presenterKey];
}

/** Sends a KitError as `application/problem+json`; the one place errors become HTTP. */
export function sendProblem(request: FastifyRequest, reply: FastifyReply, error: KitError): FastifyReply {
  const internal = toProblem(error, { instance: request.url.split('?')[0] ?? '/', requestId: request.id });
  const problem = presenterOf(request)?.(internal, error) ?? internal;
  // An upstream already spent its retries on this error: the layers above must not retry it.
  if (shouldMarkNoRetry(error)) reply.header(noRetryHeader, '1');
  // A 401 says how to authenticate (RFC 9110 §15.5.2), and why a token sent was refused (RFC 6750 §3).
  if (internal.status === 401) reply.header('www-authenticate', authenticateChallenge(error.reason));
  // A 503 or 429 always says when to come back; one second when nobody said more precisely.
  const retryAfterSeconds = error.retryAfterSeconds ?? (internal.status === 503 || internal.status === 429 ? 1 : undefined);
  if (retryAfterSeconds !== undefined) reply.header('retry-after', String(Math.max(0, Math.ceil(retryAfterSeconds))));
  // Sent as a string, so no route's response schema can reshape or strip a problem document.
  return reply.code(internal.status).type(problemContentType).send(JSON.stringify({ ...problem, status: internal.status }));
}

export interface ErrorHandlingOptions {
  /** Sees every error answer once, after it is normalised (for metrics). */
  onError?: (error: KitError, request: FastifyRequest) => void;
  /** Words every problem document this app sends (see {@link ProblemPresenter}); as the kit's by default. */
  present?: ProblemPresenter | undefined;
}

export function installErrorHandling(app: FastifyInstance, { onError, present }: ErrorHandlingOptions = {}): void {
  if (present !== undefined) (app as unknown as { [presenterKey]?: ProblemPresenter })[presenterKey] = present;
  app.setErrorHandler(function handleError(error, request, reply) {
    const kitError = kitErrorFromFastify(error);
    onError?.(kitError, request);
    const status = toProblem(kitError).status;
    if (kitError.code === Code.DeadlineExceeded || kitError.code === Code.Unavailable) {
      // Expected failures of a distributed system, not bugs: which hop ran out of time or was
      // down is what an operator asks first, and a stack would say nothing. What the driver or
      // socket said (a database's 57P01, an ECONNREFUSED) goes along, for the log only.
      request.log.warn({
        code: kitError.code, reason: kitError.reason, hop: kitError.details.hop, upstream: kitError.details.upstream, cause: causeText(kitError.cause),
      }, kitError.message);
    } else if (status >= 500) {
      // The stack and the cause are for the operator; the caller gets only the code.
      request.log.error({ err: error, code: kitError.code }, 'request failed');
    } else {
      request.log.info({ code: kitError.code, reason: kitError.reason, fields: kitError.fields }, kitError.message);
    }
    return sendProblem(request, reply, kitError);
  });
  app.setNotFoundHandler(function onNotFound(request, reply) {
    return sendProblem(request, reply, new KitError(Code.NotFound, `no route for ${request.method} ${request.url.split('?')[0]}`));
  });
}
