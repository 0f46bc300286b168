import { ConnectError, type Interceptor, type UnaryResponse } from '@connectrpc/connect';
import type { Tracer } from '@opentelemetry/api';
import { KitError } from '../../errors/index.ts';
import type { Clock } from '../../resilience/index.ts';
import { failureError } from '../../upstream/failures.ts';
import type { InstanceAttempts } from '../../upstream/instance-attempts.ts';
import { UpstreamError } from '../../upstream/upstream-error.ts';
import { formatGrpcTimeout, grpcTimeoutHeader } from '../grpc-timeout.ts';
import { transportFailureOf } from '../h2-errors.ts';
import { startRpcAttemptSpan } from '../rpc-tracing.ts';
import { kitErrorFromConnect } from '../status.ts';
import { callStateOf } from './call-state.ts';
import type { GrpcEndpoint } from './endpoint.ts';

export interface BalanceInterceptorOptions {
  upstream: string;
  /** The upstream core: the instance's choice, its breaker, and what the attempt teaches. */
  attempts: InstanceAttempts<GrpcEndpoint>;
  clock: Clock;
  tracer?: Tracer | undefined;
}

/**
 * The innermost interceptor: one attempt, sent to the instance the upstream core chose (see
 * `createInstanceAttempts`) with what remains of the deadline as `grpc-timeout`. What went wrong
 * on the wire (refused, reset, GOAWAY) is named by the unary transport and judged by the
 * failure table; a status the instance answered goes through the kit's table of codes.
 *
 * Each attempt is a CLIENT span (with `traceparent` in its metadata).
 */
export function createBalanceInterceptor({ upstream, attempts, clock, tracer }: BalanceInterceptorOptions): Interceptor {
  return (next) => function balanced(req) {
    if (req.stream) return next(req);
    const call = callStateOf(req.contextValues);
    const path = `/${req.method.parent.typeName}/${req.method.name}`;
    const method = req.method.name;
    return attempts.attempt(call, req.signal, { method, attempt: Math.max(1, call.attempts), hedge: false }, undefined, async (endpoint, signal, credential) => {
      const { instance } = endpoint;
      const attemptReq = { ...req, signal, url: instance + path };
      if (credential !== undefined) for (const [name, value] of Object.entries(credential)) attemptReq.header.set(name, value);
      // Computed just before sending, so time spent queueing or backing off is not given away twice.
      const remainingMs = call.deadlineAtMs - clock.now();
      attemptReq.header.set(grpcTimeoutHeader, formatGrpcTimeout(remainingMs));
      const span = startRpcAttemptSpan(tracer, { upstream, instance, service: req.method.parent.typeName, method, header: attemptReq.header, remainingMs });
      let error: KitError | undefined;
      try {
        return (await next(attemptReq)) as UnaryResponse;
      } catch (thrown) {
        error = signal.aborted ? KitError.from(signal.reason) : kitErrorOf(thrown, upstream, instance);
        throw error;
      } finally {
        span.end(error);
      }
    });
  };
}

function kitErrorOf(thrown: unknown, upstream: string, instance: string): KitError {
  if (!(thrown instanceof ConnectError)) return KitError.from(thrown);
  const kind = transportFailureOf(thrown);
  if (kind === undefined) return kitErrorFromConnect(thrown, upstream, instance);
  return failureError(kind, new UpstreamError(upstream, instance, thrown.rawMessage, { cause: thrown.cause ?? thrown }));
}
