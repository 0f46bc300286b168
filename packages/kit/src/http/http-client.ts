import { Code, KitError } from '../errors/index.ts';
import { type Policy, wrap } from '../resilience/index.ts';
import { createCallSignal, deadlineOf } from '../resilience/deadline.ts';
import { markRetriesExhausted } from '../resilience/retries-exhausted.ts';
import { systemClock } from '../resilience/clock.ts';
import { ATTR_BATON_UPSTREAM } from '../telemetry/tracing/attributes.ts';
import { recordCallEvent } from '../upstream/call-events.ts';
import { hedge } from '../upstream/hedge.ts';
import type { CredentialHeaders } from '../upstream/instance-attempts.ts';
import { createUpstreamPolicies } from '../upstream/policies.ts';
import { type PreparedRequest, sendAttempt } from './attempt.ts';
import { startAttemptSpan } from './attempt-span.ts';
import { type Endpoint, createEndpoint } from './endpoint.ts';
import type { HttpClient, HttpClientOptions, HttpRequest, HttpClientStats } from './http-client-types.ts';
import { idempotencyKeyHeader, isRead, isRepeatable } from './idempotency.ts';
import { pathWithQuery, requestHeaders } from './prepare-request.ts';
import type { HttpResponse } from './response.ts';
import { policyDefaults } from '../resilience/defaults.ts';

/** What one call carries from attempt to attempt. */
interface Call {
  prepared: PreparedRequest;
  /** Instances already tried: a retry goes elsewhere when it can. */
  tried: Set<Endpoint>;
  /** The highest attempt number reached, to know whether this client retried at all. */
  attempts: number;
  hedgeDelayMs: number | undefined;
}

const clientClosed = () => new KitError(Code.Unavailable, 'the client to this dependency is closed', { reason: 'client_closed' });

/**
 * The kit's client for calls between services: JSON over HTTP/1.1 on undici, with a keep-alive
 * pool per instance. Each call runs through, from the outside in:
 *
 * 1. a bulkhead for the upstream (at most `maxConcurrent` calls in flight, a short queue,
 *    rejected at once past it);
 * 2. retries, only for repeatable requests (GET, HEAD, OPTIONS, PUT, DELETE, or any request
 *    with an idempotency key): exponential backoff with full jitter, `Retry-After` honoured,
 *    never past the deadline, within the client's retry budget, and never for an error an
 *    upstream already retried (`x-baton-no-retry`);
 * 3. the choice of an instance (power of two choices; ejected instances and open circuits left
 *    out), optionally hedged for reads;
 * 4. that instance's circuit breaker;
 * 5. one attempt, which sends the remaining budget in `x-baton-timeout-ms` and always consumes
 *    or destroys the response body.
 *
 * An error it throws after retrying is marked retries-exhausted; a server that answers with it
 * should send `x-baton-no-retry: 1` (see `shouldMarkNoRetry`), so the layers above do not
 * retry it again.
 *
 * @example
 * const catalog = createHttpClient({ name: 'catalog', urls: config.CATALOG_URLS, timeoutMs: 2_000 });
 * const { body } = await catalog.request<Product>({
 *   method: 'GET', path: `/v1/products/${encodeURIComponent(sku)}`,
 *   signal: signalOf(request), requestId: request.id, hedge: true,
 * });
 * app.addHook('onClose', () => catalog.close());
 */
export function createHttpClient(options: HttpClientOptions): HttpClient {
  const {
    name,
    timeoutMs = policyDefaults.timeoutMs,
    connectionsPerInstance = policyDefaults.http.connectionsPerInstance,
    connectTimeoutMs = policyDefaults.connectTimeoutMs,
    keepAliveTimeoutMs = policyDefaults.http.keepAliveTimeoutMs,
    maxResponseBytes = policyDefaults.maxResponseBytes,
    hedging: { delayMs: fixedHedgeDelayMs, quantile = policyDefaults.hedging.quantile, minDelayMs = policyDefaults.hedging.minDelayMs } = {},
    clock = systemClock,
    logger,
    onEvent,
    tracer,
    outside = false,
  } = options;

  const upstream = createUpstreamPolicies<Endpoint>({
    ...options,
    clock,
    logger,
    onEvent,
    createEndpoint: (instance, basics) => createEndpoint(instance, { ...basics, connections: connectionsPerInstance, connectTimeoutMs, keepAliveTimeoutMs }),
    statusOf: (response) => (response as HttpResponse<unknown>).status,
  });
  const { budget, endpoints, attempts, latency, bulkhead } = upstream;
  let hedges = 0;
  let closed = false;

  const repeatable: Policy = wrap(bulkhead, upstream.retry);
  const once: Policy = wrap(bulkhead, upstream.retryUnsent);

  // One attempt on the wire, on the instance the upstream core chose; its span is this client's.
  function send<T>(endpoint: Endpoint, call: Call, signal: AbortSignal, attempt: number, isHedge: boolean, credential: CredentialHeaders): Promise<HttpResponse<T>> {
    const span = startAttemptSpan(tracer, {
      upstream: name, instance: endpoint.instance, method: call.prepared.method, path: call.prepared.path, number: attempt, hedge: isHedge, remainingMs: call.prepared.deadlineAtMs - clock.now(),
    });
    return sendAttempt<T>(endpoint.pool, call.prepared, signal, { upstream: name, instance: endpoint.instance, clock, maxResponseBytes, extraHeaders: credential === undefined ? span.headers : { ...span.headers, ...credential }, outside }).then((result) => {
      span.end(result.ok ? { status: result.response.status } : { status: result.status, error: result.error });
      if (result.ok) return result.response;
      throw result.error;
    });
  }

  function attemptCall<T>(call: Call, signal: AbortSignal, attempt: number): Promise<HttpResponse<T>> {
    call.attempts = Math.max(call.attempts, attempt);
    const method = call.prepared.method;
    if (call.hedgeDelayMs === undefined) {
      return attempts.attempt(call, signal, { method, attempt, hedge: false }, undefined, (endpoint, admitted, credential) => send<T>(endpoint, call, admitted, attempt, false, credential));
    }
    const used = new Set<Endpoint>();
    return hedge<HttpResponse<T>>({
      signal,
      delayMs: call.hedgeDelayMs,
      clock,
      attempt: (copySignal, isHedge) => attempts.attempt(call, copySignal, { method, attempt, hedge: isHedge }, used, (endpoint, admitted, credential) => send<T>(endpoint, call, admitted, attempt, isHedge, credential)),
      // A hedge is extra load like a retry, so it spends the same budget.
      mayHedge: () => endpoints.hasUsable(used) && budget.tryWithdraw(),
      isFinal: (error) => !upstream.shouldRetry(error, attempt, true),
      onHedge() {
        hedges++;
        recordCallEvent('baton.hedge', { [ATTR_BATON_UPSTREAM]: name, delay_ms: Math.round(call.hedgeDelayMs ?? 0) });
        onEvent?.({ type: 'hedge', upstream: name, delayMs: call.hedgeDelayMs ?? 0 });
      },
    });
  }

  function hedgeDelayOf(request: HttpRequest): number | undefined {
    if (request.hedge === undefined || request.hedge === false || !isRead(request.method)) return undefined;
    if (typeof request.hedge === 'object') return Math.max(0, request.hedge.delayMs);
    if (fixedHedgeDelayMs !== undefined) return fixedHedgeDelayMs;
    // Until the upstream's latency is known there is no tail to cut, only load to add.
    const observed = latency.quantile(quantile);
    return observed === undefined ? undefined : Math.max(minDelayMs, observed);
  }

  return {
    name,
    async request<T = unknown>(request: HttpRequest): Promise<HttpResponse<T>> {
      if (closed) throw clientClosed();
      if (request.signal.aborted) throw KitError.from(request.signal.reason);
      const idempotencyKey = request.idempotencyKey ?? headerOf(request.headers, idempotencyKeyHeader);
      // Built before any timer exists: a bad path or a body JSON cannot encode throws here.
      const path = pathWithQuery(request.path, request.query);
      const form = request.body instanceof URLSearchParams;
      const body = request.body === undefined ? undefined : form ? String(request.body) : JSON.stringify(request.body);
      const headers = requestHeaders({
        headers: request.headers, contentType: body === undefined ? undefined : form ? 'application/x-www-form-urlencoded' : 'application/json',
        requestId: request.requestId, idempotencyKey,
      });
      const ownAtMs = clock.now() + (request.timeoutMs ?? timeoutMs);
      // The call's one signal: the caller's, cut to this client's timeout. It carries the nearer
      // deadline, which the retry layer reads and each attempt sends on.
      const callSignal = createCallSignal(ownAtMs, {
        clock,
        parent: request.signal,
        reason: () => new KitError(Code.DeadlineExceeded, 'a dependency did not answer in time', { reason: 'timeout' }),
      });
      const call: Call = {
        prepared: { method: request.method, path, headers, body, deadlineAtMs: Math.min(ownAtMs, deadlineOf(request.signal) ?? ownAtMs) },
        tried: new Set(),
        attempts: 0,
        hedgeDelayMs: hedgeDelayOf(request),
      };
      const policy = isRepeatable(request.method, idempotencyKey) ? repeatable : once;
      try {
        return await policy.execute(({ signal: attemptSignal, attempt }) => attemptCall<T>(call, attemptSignal, attempt), callSignal.signal);
      } catch (thrown) {
        const error = KitError.from(thrown);
        // Whatever ended the call after this client retried, the layers above must not retry it.
        throw call.attempts > 1 ? markRetriesExhausted(error) : error;
      } finally {
        callSignal.dispose();
      }
    },
    stats(): HttpClientStats {
      const instances = upstream.instanceStats((endpoint) => ({ connections: endpoint.pool.stats.connected, idleConnections: endpoint.pool.stats.free }));
      return { upstream: name, retries: upstream.retries(), hedges, retryBudgetAvailable: budget.available(), instances };
    },
    async close() {
      closed = true;
      await endpoints.close();
    },
  };
}

function headerOf(headers: Readonly<Record<string, string>> | undefined, name: string): string | undefined {
  if (headers === undefined) return undefined;
  for (const [key, value] of Object.entries(headers)) if (key.toLowerCase() === name) return value;
  return undefined;
}
