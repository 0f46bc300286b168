import { serviceTokenHeader } from '../auth/service-identity/service-token.ts';
import { Code, KitError } from '../errors/index.ts';
import type { Clock } from '../resilience/index.ts';
import { ATTR_BATON_UPSTREAM } from '../telemetry/tracing/attributes.ts';
import { recordCallEvent } from './call-events.ts';
import type { BalancedEndpoint, EndpointSet } from './endpoint-set.ts';
import type { HttpClientEvent, HttpClientLogger } from './events.ts';
import { classifyAs, countsAgainstInstance, failureKindOf, failureTable } from './failures.ts';
import type { LatencyTracker } from './latency-tracker.ts';
import type { OutlierDetector } from './outlier-detection.ts';
import { UpstreamError } from './upstream-error.ts';

/** An instance as the attempts see it, whatever carries its calls. */
export interface UpstreamEndpoint extends BalancedEndpoint {
  outstanding: number;
  ewmaLatencyMs: number;
  latencyAtMs?: number;
  /** Called when an attempt on it ends (a gRPC endpoint's close waits for the last one). */
  settled?(): void;
  /**
   * Called when the instance first says it is leaving: an HTTP/1.1 endpoint stops using the
   * connections it has pooled (HTTP/1.1 has no GOAWAY), since the instance will close them.
   */
  leaving?(): void;
}

/** What an attempt is, for its events. */
export interface AttemptInfo {
  /** The HTTP method or the gRPC method's name. */
  method: string;
  attempt: number;
  hedge: boolean;
}

export interface InstanceAttempts<E extends UpstreamEndpoint> {
  /**
   * Runs one attempt of a call: chooses an instance (preferably one the call has not tried),
   * runs `send` on it through its breaker, and accounts for how it ended. An instance whose
   * breaker refuses is left out and the next one tried, at once. In a hedged race, `used` holds
   * the instances the race's copies went to, and a hedge (`info.hedge`) goes elsewhere.
   */
  attempt<T>(call: { tried: Set<E> }, signal: AbortSignal, info: AttemptInfo, used: Set<E> | undefined, send: Send<E, T>): Promise<T>;
}

/** What this service sends to prove who it is (`baton-service-token`), with each attempt. */
export type CredentialHeaders = Readonly<Record<string, string>> | undefined;

/** How an attempt goes on the wire, on the chosen instance, with this service's credential. */
export type Send<E, T> = (endpoint: E, signal: AbortSignal, credential: CredentialHeaders) => Promise<T>;

export interface InstanceAttemptsOptions<E extends UpstreamEndpoint> {
  upstream: string;
  endpoints: EndpointSet<E>;
  outliers: OutlierDetector;
  /** The upstream's latencies, for a hedge's delay. */
  latency: LatencyTracker;
  clock: Clock;
  logger: HttpClientLogger | undefined;
  onEvent: ((event: HttpClientEvent) => void) | undefined;
  /** The HTTP status of a successful attempt's result, for its event. */
  statusOf?: (result: unknown) => number | undefined;
  /** This service's token for the upstream, for every attempt: cached (a string) but at first. */
  credential?: (() => string | Promise<string>) | undefined;
  /** Told when the upstream refused that token: it is forgotten, and the next attempt carries a new one. */
  credentialRefused?: (() => void) | undefined;
}

// Longer than a Baton server's shutdown notice (SHUTDOWN_NOTICE_MS, 500 ms), so the instance is
// gone (refusing connections, which the breaker then paces) before it is chosen again.
const leavingAvoidMs = 1_000;

/**
 * A reset by an instance that said it was leaving before this attempt was sent (the keep-alive
 * connection it closed as it went, a moment after the request left): the request was never
 * started there, so any call may be tried again, as after its `shutting_down` refusal.
 */
function notStartedOnLeaving(reset: KitError): KitError {
  return classifyAs(new KitError(Code.Unavailable, 'a dependency is restarting', { reason: 'shutting_down', cause: reset }), 'shutting_down');
}
const noInstances = () => new KitError(Code.Unavailable, 'a dependency has no instance to call', { reason: 'no_instances' });

// Weight of the newest sample in the moving average, when it is faster than the average: recent
// enough to notice a recovery within a handful of calls, smooth enough that one fast call does
// not swing the balancer.
const ewmaWeight = 0.3;

/**
 * Folds one latency into the instance's moving average, peak-sensitive as Linkerd's is: a sample
 * slower than the average is taken whole (one call that waited out its timeout is what the next
 * caller would wait), a faster one moves the average by `ewmaWeight`. The first sample is taken
 * as it is. The time it was learnt lets the balancer fade what is no longer refreshed.
 */
function observeLatency(endpoint: { ewmaLatencyMs: number; latencyAtMs?: number }, durationMs: number, nowMs: number): void {
  endpoint.ewmaLatencyMs = durationMs >= endpoint.ewmaLatencyMs ? durationMs : endpoint.ewmaLatencyMs + ewmaWeight * (durationMs - endpoint.ewmaLatencyMs);
  endpoint.latencyAtMs = nowMs;
}

/**
 * The one place that sends an attempt to an instance, for HTTP and gRPC alike: the instance's
 * choice, its breaker, and what the attempt teaches about it: its latency (only from an answer:
 * a refused connection is fast and says nothing of speed), its health for outlier ejection (by
 * the failure table: a draining instance is not held to account), and the attempt's events.
 *
 * @example
 * const attempts = createInstanceAttempts({ upstream: name, endpoints, outliers, latency, clock, logger, onEvent });
 * return attempts.attempt(call, signal, { method: 'GET', attempt, hedge: false }, undefined, (endpoint, signal) => send(endpoint, signal));
 */
export function createInstanceAttempts<E extends UpstreamEndpoint>(options: InstanceAttemptsOptions<E>): InstanceAttempts<E> {
  const { upstream, endpoints, outliers, latency, clock, logger, onEvent, statusOf, credential, credentialRefused } = options;

  // The one place every attempt, HTTP or gRPC, is given this service's credential: a cached
  // token is sent as it is; only the first call to an upstream waits for one to be signed.
  let lastHeaders: { token: string; headers: CredentialHeaders } | undefined;
  const headersOf = (token: string): CredentialHeaders => {
    if (lastHeaders?.token !== token) lastHeaders = { token, headers: { [serviceTokenHeader]: token } };
    return lastHeaders.headers;
  };
  function sendWithCredential<T>(endpoint: E, signal: AbortSignal, send: Send<E, T>): Promise<T> {
    if (credential === undefined) return send(endpoint, signal, undefined);
    const token = credential();
    if (typeof token === 'string') return send(endpoint, signal, headersOf(token));
    return token.then((minted) => send(endpoint, signal, headersOf(minted)));
  }

  // Not async functions, here and in `attempt`: on the path of every call, each layer of
  // promises costs throughput (client-overhead in bench/), and nearly every attempt is admitted.
  function measured<T>(endpoint: E, signal: AbortSignal, info: AttemptInfo, send: Send<E, T>): Promise<T> {
    onEvent?.({ type: 'attempt_start', upstream, instance: endpoint.instance, method: info.method, attempt: info.attempt, hedge: info.hedge });
    endpoint.outstanding++;
    const startedAt = clock.now();
    // Sent to an instance that had already said it is leaving: it starts nothing new (it refuses
    // with `shutting_down`, then closes), so a connection it resets carried no started work.
    const sentWhileLeaving = endpoint.leavingUntilMs !== undefined && endpoint.leavingUntilMs > startedAt;
    let work: Promise<T>;
    try {
      work = sendWithCredential(endpoint, signal, send);
    } catch (thrown) {
      work = Promise.reject(thrown);
    }
    return work.then(
      (result) => {
        settled(endpoint, info, startedAt, undefined, false, result);
        return result;
      },
      (thrown: unknown) => {
        // After this side gave up (deadline, caller, a lost hedge), what the transport threw is
        // only a consequence, and says nothing about the instance.
        const aborted = signal.aborted;
        let error = aborted ? KitError.from(signal.reason) : KitError.from(thrown);
        // The caller's own deadline, not this client's timeout: said of the call, not of the
        // instance, so the breaker (which reads the table) holds it neither for nor against it,
        // as the outlier detector does below. Else callers with little time left would open a
        // healthy instance's breaker for every caller.
        if (aborted && error.code === Code.DeadlineExceeded && error.reason !== 'timeout') classifyAs(error, 'caller_deadline');
        if (!aborted && sentWhileLeaving && failureKindOf(error) === 'connection_reset') error = notStartedOnLeaving(error);
        settled(endpoint, info, startedAt, error, aborted, undefined);
        throw error;
      },
    );
  }

  function settled(endpoint: E, info: AttemptInfo, startedAt: number, error: KitError | undefined, aborted: boolean, result: unknown): void {
    endpoint.outstanding--;
    endpoint.settled?.();
    const durationMs = clock.now() - startedAt;
    account(endpoint, error, aborted, durationMs);
    onEvent?.({
      type: 'attempt_end', upstream, instance: endpoint.instance, method: info.method, attempt: info.attempt, hedge: info.hedge,
      status: error === undefined ? statusOf?.(result) : statusOfError(error),
      code: error?.code,
      outcome: error === undefined ? 'ok' : aborted ? 'aborted' : 'error',
      durationMs,
    });
  }

  function account(endpoint: E, error: KitError | undefined, aborted: boolean, durationMs: number): void {
    if (aborted) {
      // The loser of a race, or an attempt cut by this client's timeout, took at least this long:
      // without this, a slow instance whose calls are always hedged away, or a silent one whose
      // calls all time out, would look as fast as it last was, and be chosen again.
      if ((error?.reason === 'hedge_lost' || error?.reason === 'timeout') && durationMs > endpoint.ewmaLatencyMs) observeLatency(endpoint, durationMs, clock.now());
      // Cut by this client's own timeout: the instance did not answer within the bound this
      // client keeps for it, which says as much against it as a 504 would. Without this an
      // instance whose packets vanish (a partition: no reset, no refusal, every attempt waits
      // out the timeout) is never ejected (seen in the multi-host proof, test/hosts). A caller
      // that left or a spent inbound deadline says nothing of the instance, nor a lost hedge.
      if (error?.reason === 'timeout') judgeInstance(endpoint, 'failure');
      return;
    }
    if (error === undefined || isAnswer(error)) {
      observeLatency(endpoint, durationMs, clock.now());
      latency.record(durationMs);
    }
    if (error !== undefined && failureKindOf(error) === 'credentials_refused') {
      // Expired, or signed by a clock the upstream does not agree with: never sent again.
      logger?.warn({ upstream, instance: endpoint.instance, err: error }, 'the upstream refused this service\'s credential; a new one goes with the next call (is this machine\'s clock right?)');
      credentialRefused?.();
    }
    const said = error === undefined ? 'healthy' : failureTable[failureKindOf(error)].instance;
    // An instance that said it is leaving gets no new calls for a while (it refuses them anyway):
    // its idle pooled connections then carry nothing when it closes them (HTTP/1.1 has no GOAWAY).
    if (said === 'draining') {
      const alreadyLeaving = endpoint.leavingUntilMs !== undefined && endpoint.leavingUntilMs > clock.now();
      endpoint.leavingUntilMs = clock.now() + leavingAvoidMs;
      if (!alreadyLeaving) endpoint.leaving?.();
    }
    if (said === 'none' || said === 'draining') return;
    judgeInstance(endpoint, error !== undefined && countsAgainstInstance(error) ? 'failure' : 'success');
  }

  /** Tells outlier detection how an attempt on the instance went; an ejection it causes is logged and told. */
  function judgeInstance(endpoint: E, result: 'success' | 'failure'): void {
    const ejection = outliers.record(endpoint.instance, result, endpoints.size);
    if (ejection !== undefined) {
      logger?.warn({ upstream, instance: endpoint.instance, duration_ms: ejection.durationMs, ejections: ejection.ejections }, 'instance ejected');
      onEvent?.({ type: 'ejection', upstream, ...ejection });
    }
  }

  // Tries the instances in turn until one's breaker admits the attempt. The breaker calls the
  // attempt at once when it admits it; only a refusal takes the slower path that reads why.
  function attemptFrom<T>(call: { tried: Set<E> }, signal: AbortSignal, info: AttemptInfo, used: Set<E> | undefined, send: Send<E, T>, refused: Set<E> | undefined, refusal: KitError | undefined): Promise<T> {
    const endpoint = endpoints.choose(refused, call.tried);
    if (endpoint === undefined) return Promise.reject(refusal ?? noInstances());
    call.tried.add(endpoint);
    used?.add(endpoint);
    let admitted = false;
    const work = endpoint.breaker.execute(({ signal: admittedSignal }) => {
      admitted = true;
      return measured(endpoint, admittedSignal, info, send);
    }, signal);
    if (admitted) return work;
    return work.then(undefined, (thrown: unknown) => {
      const error = KitError.from(thrown);
      if (error.reason !== 'circuit_open') throw error;
      // This client's own breaker's refusal: nothing was sent (an upstream's `circuit_open`
      // answer, from its own dependency, is not this).
      classifyAs(error, 'circuit_open');
      recordCallEvent('baton.breaker_rejected', { [ATTR_BATON_UPSTREAM]: upstream, instance: endpoint.instance });
      return attemptFrom(call, signal, info, used, send, new Set(refused).add(endpoint), error);
    });
  }

  return {
    attempt(call, signal, info, used, send) {
      // Made only for a hedge, which avoids what the race already used (and when a breaker refuses).
      const refused = info.hedge ? new Set(used) : undefined;
      if (endpoints.size === 0) return endpoints.ready(signal).then(() => attemptFrom(call, signal, info, used, send, refused, undefined));
      return attemptFrom(call, signal, info, used, send, refused, undefined);
    },
  };
}

// An answer came (any status): the instance was there and this is how long it took.
function isAnswer(error: KitError): boolean {
  const kind = failureKindOf(error);
  // A refusal from an instance going away is fast and says nothing of how fast it serves.
  return kind.startsWith('answered_') || kind === 'bad_response';
}

function statusOfError(error: KitError): number | undefined {
  return error.cause instanceof UpstreamError ? error.cause.status : undefined;
}
