import type { ServiceConfig } from '../config/index.ts';

/** The limits a service's servers run with. Each says the variable an operator sets it with, if any. */
export interface ServiceLimits {
  /** The largest request body an HTTP route accepts unless it sets its own; past it, 413 (`BODY_LIMIT_BYTES`). */
  bodyLimitBytes: number;
  /** Slow-loris protection: an HTTP request must arrive whole within this; 0 turns it off (`REQUEST_RECEIVE_TIMEOUT_MS`). */
  requestReceiveTimeoutMs: number;
  /** How long an idle HTTP keep-alive connection stays open; keep it above a load balancer's idle timeout (`KEEP_ALIVE_TIMEOUT_MS`). */
  keepAliveTimeoutMs: number;
  /** The deadline of a request whose route sets none, and the cap on a caller's budget (`REQUEST_DEADLINE_MS`). */
  requestDeadlineMs: number;
  /** How long after its deadline a handler that ignored its signal may still answer before the server answers for it. */
  deadlineAnswerGraceMs: number;
  /** Adaptive load shedding on the HTTP server (`LOAD_SHEDDING`). */
  loadShedding: boolean;
  /** The concurrency limit a fresh instance starts at, before latency teaches it (`LOAD_SHEDDING_INITIAL_LIMIT`). */
  shedInitialLimit: number;
  /** The floor the learnt limit never goes below (`LOAD_SHEDDING_MIN_LIMIT`). */
  shedMinLimit: number;
  /** How long in-flight requests and calls may take to finish after shutdown begins (`SHUTDOWN_TIMEOUT_MS`). */
  shutdownTimeoutMs: number;
  /** Time between readiness turning false and the listeners closing (`SHUTDOWN_DRAIN_DELAY_MS`). */
  shutdownDrainDelayMs: number;
  /**
   * After the drain delay, how long a closing server refuses new requests with 503
   * `shutting_down` (and `Connection: close`) before its listener and idle connections close
   * (`SHUTDOWN_NOTICE_MS`): a client's pooled connections hear the refusal and go elsewhere,
   * instead of being cut under a request they just sent.
   */
  shutdownNoticeMs: number;
  /** The largest gRPC message read or written; past it, RESOURCE_EXHAUSTED. */
  grpcMaxMessageBytes: number;
}

/**
 * Every limit's default, in one place: the config fields every service reads
 * (`serviceConfigFields`) take theirs from here.
 */
export const defaultServiceLimits: Readonly<ServiceLimits> = Object.freeze({
  bodyLimitBytes: 1024 * 1024,
  requestReceiveTimeoutMs: 60_000,
  // Fastify's own default, above the 60 s idle timeout common in load balancers, so
  // the balancer, not the service, closes an idle connection (else it may send on a closing one).
  keepAliveTimeoutMs: 72_000,
  requestDeadlineMs: 10_000,
  deadlineAnswerGraceMs: 50,
  loadShedding: true,
  // Start generous and let latency teach the limit downwards: a fresh instance that shed a
  // burst it could have served would look broken, while one that queues a little before
  // learning is only slow for a second.
  shedInitialLimit: 200,
  // A floor that a burst of slow answers cannot push a service below: twenty requests in flight
  // is little for any of Baton's services, and a gateway whose upstreams slow down sees their
  // latency as its own.
  shedMinLimit: 20,
  shutdownTimeoutMs: 10_000,
  // Nothing to wait for without a load balancer; set it under one.
  shutdownDrainDelayMs: 0,
  // Every pooled connection of a busy client carries a request within this, and so hears the
  // refusal; only one idle all along can still meet the close (HTTP/1.1 has no GOAWAY).
  shutdownNoticeMs: 500,
  // gRPC's usual 4 MiB.
  grpcMaxMessageBytes: 4 * 1024 * 1024,
});

/**
 * The limits a service starts with: those its config carries, the defaults for the rest, and
 * `overrides` (from code: a test, a benchmark) over both.
 *
 * @example
 * const limits = limitsOf(config, { deadlineAnswerGraceMs: 20 });
 */
export function limitsOf(config: ServiceConfig, overrides: Partial<ServiceLimits> = {}): ServiceLimits {
  return {
    ...defaultServiceLimits,
    bodyLimitBytes: config.BODY_LIMIT_BYTES,
    requestReceiveTimeoutMs: config.REQUEST_RECEIVE_TIMEOUT_MS,
    keepAliveTimeoutMs: config.KEEP_ALIVE_TIMEOUT_MS,
    requestDeadlineMs: config.REQUEST_DEADLINE_MS,
    loadShedding: config.LOAD_SHEDDING,
    shedInitialLimit: config.LOAD_SHEDDING_INITIAL_LIMIT,
    shedMinLimit: config.LOAD_SHEDDING_MIN_LIMIT,
    shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS,
    shutdownDrainDelayMs: config.SHUTDOWN_DRAIN_DELAY_MS,
    shutdownNoticeMs: config.SHUTDOWN_NOTICE_MS,
    ...overrides,
  };
}
