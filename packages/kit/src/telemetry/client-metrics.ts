import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { HttpClientEvent } from '../http/index.ts';
import { durationBucketsSeconds } from './metrics.ts';

const breakerStateValue = { closed: 0, half_open: 1, open: 2 } as const;

/**
 * The outbound side of a service's metrics: what each upstream answered, how long it took, and
 * every decision the client's policies made (retries, hedges, breaker transitions, bulkhead
 * rejections, ejections). One set per service registry; every client of the service feeds it
 * through `onEvent`.
 */
export function createClientMetrics(registry: Registry): { onEvent(event: HttpClientEvent): void } {
  const registers = [registry];
  const attempts = new Counter({
    name: 'baton_client_attempts_total',
    help: 'Outbound attempts by upstream, method, outcome (ok, error, aborted) and status or error code.',
    labelNames: ['upstream', 'method', 'outcome', 'code'], registers,
  });
  const duration = new Histogram({
    name: 'baton_client_attempt_duration_seconds',
    help: 'Duration of outbound attempts, by upstream and outcome.',
    labelNames: ['upstream', 'outcome'], buckets: durationBucketsSeconds, registers,
  });
  const retries = new Counter({ name: 'baton_client_retries_total', help: 'Retries sent, by upstream.', labelNames: ['upstream'], registers });
  const giveUps = new Counter({
    name: 'baton_client_give_ups_total',
    help: 'Calls that stopped retrying, by upstream and why (max_attempts, budget_exhausted, deadline).',
    labelNames: ['upstream', 'reason'], registers,
  });
  const hedges = new Counter({ name: 'baton_client_hedges_total', help: 'Hedged second attempts sent, by upstream.', labelNames: ['upstream'], registers });
  const breakerState = new Gauge({
    name: 'baton_client_breaker_state',
    help: 'Circuit breaker state per upstream instance: 0 closed, 1 half-open, 2 open.',
    labelNames: ['upstream', 'instance'], registers,
  });
  const breakerTransitions = new Counter({
    name: 'baton_client_breaker_transitions_total',
    help: 'Circuit breaker state changes per upstream instance, by the state entered.',
    labelNames: ['upstream', 'instance', 'to'], registers,
  });
  const bulkheadRejections = new Counter({
    name: 'baton_client_bulkhead_rejections_total',
    help: 'Outbound calls refused at once because too many were in flight, by upstream.',
    labelNames: ['upstream'], registers,
  });
  const ejections = new Counter({
    name: 'baton_client_ejections_total',
    help: 'Upstream instances ejected by outlier detection.',
    labelNames: ['upstream', 'instance'], registers,
  });
  const unhealthy = new Counter({
    name: 'baton_client_unhealthy_total',
    help: 'Upstream instances taken out of rotation by failed health checks.',
    labelNames: ['upstream', 'instance'], registers,
  });
  const instances = new Gauge({ name: 'baton_client_instances', help: 'Instances discovery knows per upstream.', labelNames: ['upstream'], registers });

  return {
    onEvent(event) {
      switch (event.type) {
        case 'attempt_end':
          attempts.inc({ upstream: event.upstream, method: event.method, outcome: event.outcome, code: event.code ?? String(event.status ?? '') });
          duration.observe({ upstream: event.upstream, outcome: event.outcome }, event.durationMs / 1000);
          break;
        case 'retry': retries.inc({ upstream: event.upstream }); break;
        case 'give_up': giveUps.inc({ upstream: event.upstream, reason: event.reason }); break;
        case 'hedge': hedges.inc({ upstream: event.upstream }); break;
        case 'breaker_state':
          breakerState.set({ upstream: event.upstream, instance: event.instance }, breakerStateValue[event.to]);
          breakerTransitions.inc({ upstream: event.upstream, instance: event.instance, to: event.to });
          break;
        case 'bulkhead_reject': bulkheadRejections.inc({ upstream: event.upstream }); break;
        case 'ejection': ejections.inc({ upstream: event.upstream, instance: event.instance }); break;
        case 'health': if (!event.healthy) unhealthy.inc({ upstream: event.upstream, instance: event.instance }); break;
        case 'discovery':
          instances.set({ upstream: event.upstream }, event.instances.length);
          for (const instance of event.instances) breakerState.set({ upstream: event.upstream, instance }, 0);
          break;
        default: break;
      }
    },
  };
}
