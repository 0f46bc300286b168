import { ConnectError, type Interceptor, type UnaryResponse } from '@connectrpc/connect';
import { Code, KitError } from '../../errors/index.ts';
import type { HttpClientEvent } from '../../http/events.ts';
import type { EndpointSet } from '../../http/endpoint-set.ts';
import { observeLatency } from '../../http/endpoint.ts';
import type { OutlierDetector } from '../../http/outlier-detection.ts';
import type { Clock } from '../../resilience/index.ts';
import { formatGrpcTimeout, grpcTimeoutHeader } from '../grpc-timeout.ts';
import { isBreakerFailure } from '../../resilience/index.ts';
import type { Tracer } from '@opentelemetry/api';
import { recordCallEvent } from '../../http/attempt-span.ts';
import { ATTR_BATON_UPSTREAM } from '../../telemetry/tracing/attributes.ts';
import { startRpcAttemptSpan } from '../rpc-tracing.ts';
import { kitErrorFromConnect } from '../status.ts';
import { callStateOf } from './call-state.ts';
import type { GrpcEndpoint } from './endpoint.ts';

export interface BalanceInterceptorOptions {
  upstream: string;
  endpoints: EndpointSet<GrpcEndpoint>;
  outliers: OutlierDetector;
  clock: Clock;
  /** Breaker refusals, which the retry layer must not retry (the balancer already tried elsewhere). */
  refusals: WeakSet<KitError>;
  onEvent: ((event: HttpClientEvent) => void) | undefined;
  logger: { warn(fields: Record<string, unknown>, message: string): void } | undefined;
  tracer?: Tracer | undefined;
}

const noInstances = () => new KitError(Code.Unavailable, 'a dependency has no instance to call', { reason: 'no_instances' });

/**
 * The innermost interceptor: picks an instance (power of two choices, ejected instances and open
 * circuits left out, another instance than last time for a retry), runs the attempt through
 * that instance's breaker, and sends it there with what remains of the deadline as
 * `grpc-timeout`. An instance whose breaker refuses is left out and the next one tried.
 *
 * Each attempt is a CLIENT span (with `traceparent` in its metadata) and reports
 * `attempt_start` and `attempt_end` events with the upstream, instance, method, attempt number,
 * outcome and duration.
 */
export function createBalanceInterceptor({ upstream, endpoints, outliers, clock, refusals, onEvent, logger, tracer }: BalanceInterceptorOptions): Interceptor {
  return (next) => async function balanced(req) {
    if (req.stream) return next(req);
    const call = callStateOf(req.contextValues);
    const path = `/${req.method.parent.typeName}/${req.method.name}`;
    if (endpoints.size === 0) await endpoints.ready(req.signal);
    const refused = new Set<GrpcEndpoint>();
    let refusal: KitError | undefined;
    for (;;) {
      const endpoint = endpoints.choose(refused, call.tried);
      if (endpoint === undefined) throw refusal ?? noInstances();
      call.tried.add(endpoint);
      let admitted = false;
      try {
        return await endpoint.breaker.execute(({ signal }) => {
          admitted = true;
          return attempt(endpoint, { ...req, signal, url: endpoint.instance + path });
        }, req.signal);
      } catch (thrown) {
        const error = KitError.from(thrown);
        if (admitted || error.reason !== 'circuit_open') throw error;
        recordCallEvent('baton.breaker_rejected', { [ATTR_BATON_UPSTREAM]: upstream, instance: endpoint.instance });
        refusals.add(error);
        refused.add(endpoint);
        refusal = error;
      }
    }

    async function attempt(endpoint: GrpcEndpoint, attemptReq: typeof req): Promise<UnaryResponse> {
      const { instance } = endpoint;
      const method = req.method.name;
      const number = Math.max(1, call.attempts);
      onEvent?.({ type: 'attempt_start', upstream, instance, method, attempt: number, hedge: false });
      // Computed just before sending, so time spent queueing or backing off is not given away twice.
      const remainingMs = call.deadlineAtMs - clock.now();
      attemptReq.header.set(grpcTimeoutHeader, formatGrpcTimeout(remainingMs));
      const span = startRpcAttemptSpan(tracer, { upstream, instance, service: req.method.parent.typeName, method, header: attemptReq.header, remainingMs });
      endpoint.outstanding++;
      const startedAt = clock.now();
      let error: KitError | undefined;
      let aborted = false;
      try {
        return (await next(attemptReq)) as UnaryResponse;
      } catch (thrown) {
        aborted = attemptReq.signal.aborted;
        error = aborted ? KitError.from(attemptReq.signal.reason) : thrown instanceof ConnectError ? kitErrorFromConnect(thrown, upstream, instance) : KitError.from(thrown);
        throw error;
      } finally {
        span.end(error);
        endpoint.outstanding--;
        endpoint.settled();
        const durationMs = clock.now() - startedAt;
        if (!aborted) {
          observeLatency(endpoint, durationMs);
          // An answer that says the instance itself is unwell (unavailable, internal, a timeout on
          // its side) counts against it; a business error is a healthy instance's answer.
          const failed = error !== undefined && isBreakerFailure(error);
          const ejection = outliers.record(instance, failed ? 'failure' : 'success', endpoints.size);
          if (ejection !== undefined) {
            logger?.warn({ upstream, instance, duration_ms: ejection.durationMs, ejections: ejection.ejections }, 'instance ejected');
            onEvent?.({ type: 'ejection', upstream, ...ejection });
          }
        }
        onEvent?.({
          type: 'attempt_end', upstream, instance, method, attempt: number, hedge: false, status: undefined,
          code: error?.code, outcome: error === undefined ? 'ok' : aborted ? 'aborted' : 'error', durationMs,
        });
      }
    }
  };
}
