import type { FastifyReply, FastifyRequest } from 'fastify';
import { KitError, isCode } from '@baton/kit/errors';
import { UpstreamError, idempotentReplayedHeader, type HttpClient, type HttpMethod } from '@baton/kit/http';
import { signalOf } from '@baton/kit/service';

export interface ForwardOptions {
  method: HttpMethod;
  path: string;
  query?: Record<string, string | number | undefined>;
  body?: unknown;
  /** Pass the caller's bearer token on, so the service checks who is asking itself. */
  withCredentials?: boolean;
  /** The token to pass on instead of the request's Authorization header (the storefront's, from its session cookie). */
  accessToken?: string;
  idempotencyKey?: string;
}

export interface ServiceAnswer<T> {
  status: number;
  body: T;
  /** A keyed request's first answer, given again. */
  replayed: boolean;
}

// Members every problem document has; the rest are a service's own, caller-safe extensions.
const standardMembers = new Set(['type', 'title', 'status', 'detail', 'instance', 'code', 'reason', 'request_id', 'errors', 'retries_exhausted']);

/**
 * One call to the service that owns the data, through the kit's client: the request's deadline
 * and its signal (a caller gone cancels it), the breaker, retries where safe, a hedge for a
 * public read. A failure is thrown
 * as the KitError the service's problem document describes. The public API forwards with it, and
 * the storefront's pages read what it answers.
 */
export async function callService<T = unknown>(request: FastifyRequest, client: HttpClient, options: ForwardOptions): Promise<ServiceAnswer<T>> {
  const headers: Record<string, string> = {};
  if (options.withCredentials) {
    const authorization = options.accessToken === undefined ? request.headers.authorization : `Bearer ${options.accessToken}`;
    if (authorization) headers.authorization = authorization;
  }
  const query = options.query === undefined ? undefined : Object.fromEntries(Object.entries(options.query).filter(([, v]) => v !== undefined)) as Record<string, string | number>;
  try {
    const response = await client.request({
      method: options.method,
      path: options.path,
      ...(query ? { query } : {}),
      ...(options.body === undefined ? {} : { body: options.body }),
      headers,
      ...(options.idempotencyKey ? { idempotencyKey: options.idempotencyKey } : {}),
      // A read of public data (the catalogue) is hedged: when the instance it went to has not
      // answered by the upstream's p95, a copy goes to another, so one stuck replica costs a
      // shopper that p95, not the whole timeout (the partition of test/hosts did, before).
      // Reads on a user's behalf are not: they are rarer, and each hedge is a second token check.
      ...(options.method === 'GET' && !options.withCredentials ? { hedge: true } : {}),
      signal: signalOf(request),
      requestId: request.id,
    });
    return { status: response.status, body: response.body as T, replayed: response.headers[idempotentReplayedHeader] === 'true' };
  } catch (error) {
    throw withServiceDetails(KitError.from(error));
  }
}

/**
 * Sends a validated public request on to the service that owns it and answers with the
 * service's status and body. The services behind the gateway are Baton's own, so their problem
 * documents (field errors, the SKUs out of stock) reach the caller as they said them.
 */
export async function forward(request: FastifyRequest, reply: FastifyReply, client: HttpClient, options: ForwardOptions): Promise<void> {
  // A signed-in user's own data (orders, mail, profile): no cache on the way, nor the browser's,
  // may keep it for the next person at that machine or behind that proxy (OWASP API8).
  if (options.withCredentials) void reply.header('cache-control', 'no-store');
  const answer = await callService(request, client, options);
  // A replayed answer to a keyed request says so to the caller too.
  if (answer.replayed) void reply.header(idempotentReplayedHeader, 'true');
  // Sent as the service wrote it: the route's response schema documents the API, and must not
  // reshape (or strip) what the owning service answered.
  await reply.code(answer.status).type('application/json; charset=utf-8').send(JSON.stringify(answer.body));
}

/** The KitError a service's problem document describes, with the members it added (field errors, the SKUs out of stock) kept. */
export function withServiceDetails(error: KitError): KitError {
  const received = error.cause instanceof UpstreamError ? error.cause.received : undefined;
  if (typeof received !== 'object' || received === null || !isCode((received as { code?: unknown }).code)) return error;
  const problem = received as Record<string, unknown>;
  const details = Object.fromEntries(Object.entries(problem).filter(([key]) => !standardMembers.has(key)));
  const fields = Array.isArray(problem.errors)
    ? problem.errors.filter((f): f is { field: string; message: string } => typeof f?.field === 'string' && typeof f?.message === 'string')
    : [];
  return new KitError(error.code, error.message, {
    cause: error,
    reason: error.reason,
    retryAfterSeconds: error.retryAfterSeconds,
    details: { ...details, ...error.details },
    fields,
  });
}
