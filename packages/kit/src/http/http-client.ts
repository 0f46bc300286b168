import { Readable } from 'node:stream';
import { Code, KitError } from '../errors/index.ts';
import { type Policy, createRetry, wrap } from '../resilience/index.ts';
import { createCallSignal, deadlineOf, whenAborted } from '../resilience/deadline.ts';
import { markRetriesExhausted } from '../resilience/retries-exhausted.ts';
import { systemClock } from '../resilience/clock.ts';
import { ATTR_BATON_UPSTREAM } from '../telemetry/tracing/attributes.ts';
import { recordCallEvent } from '../upstream/call-events.ts';
import { hedge } from '../upstream/hedge.ts';
import type { CredentialHeaders } from '../upstream/instance-attempts.ts';
import { createUpstreamPolicies } from '../upstream/policies.ts';
import { type AnswerReader, type PreparedRequest, createJsonAnswers, sendAttempt } from './attempt.ts';
import { startAttemptSpan } from './attempt-span.ts';
import { type Endpoint, createEndpoint } from './endpoint.ts';
import type { HttpClient, HttpClientOptions, HttpRequest, HttpClientStats, StreamOptions } from './http-client-types.ts';
import { idempotencyKeyHeader, isRead, isRepeatable } from './idempotency.ts';
import { pathWithQuery, requestHeaders } from './prepare-request.ts';
import type { HttpResponse, StreamedResponse } from './response.ts';
import { streamedAnswers, underCallSignal, whenBodyDone } from './streamed-response.ts';
import { policyDefaults } from '../resilience/defaults.ts';

// Where a Baton server says whether it serves (service/health.ts), for the health checks.
const readinessPath = '/readyz';

/** What one call carries from attempt to attempt. */
interface Call<R> {
  prepared: PreparedRequest;
  /** What the call makes of an answer: JSON read whole (`request`), or a body handed on (`stream`). */
  answers: AnswerReader<R>;
  /** Instances already tried: a retry goes elsewhere when it can. */
  tried: Set<Endpoint>;
  /** The highest attempt number reached, to know whether this client retried at all. */
  attempts: number;
  hedgeDelayMs: number | undefined;
}

/** A call ready to run: its policy, its signal, and the one way to let go of what it holds. */
interface StartedCall<R> {
  call: Call<R>;
  policy: Policy;
  signal: AbortSignal;
  /** Clears the call's timer and its hold on the caller's signal. Idempotent. */
  dispose(): void;
}

const clientClosed = () => new KitError(Code.Unavailable, 'the client to this dependency is closed', { reason: 'client_closed' });

/**
 * The kit's client for calls between services: JSON over HTTP/1.1 on undici, with a keep-alive
 * pool per instance; a request body may also be a stream, and `stream()` hands an answer's body
 * on unread, so a large file passes through without being held whole. Each call runs through,
 * from the outside in:
 *
 * 1. a bulkhead for the upstream (at most `maxConcurrent` calls in flight, a short queue,
 *    rejected at once past it);
 * 2. retries, only for repeatable requests (GET, HEAD, OPTIONS, PUT, DELETE, or any request
 *    with an idempotency key): exponential backoff with full jitter, `Retry-After` honoured,
 *    never past the deadline, within the client's retry budget, and never for an error an
 *    upstream already retried (`x-baton-no-retry`); never for a streamed request body;
 * 3. the choice of an instance (power of two choices; ejected instances and open circuits left
 *    out), optionally hedged for reads;
 * 4. that instance's circuit breaker;
 * 5. one attempt, which sends the remaining budget in `x-baton-timeout-ms` and always consumes
 *    or destroys the response body, unless it hands it to a `stream()` caller: the call's
 *    deadline then covers the body until it ends or is destroyed.
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
    // Over the instance's own pool, so a connection that went silent is what is asked.
    probe: async (endpoint, signal) => {
      const { statusCode, body } = await endpoint.pool.request({ method: 'GET', path: readinessPath, signal });
      await body.dump();
      if (statusCode !== 200) throw new KitError(Code.Unavailable, `the instance answered ${statusCode} to its health check`);
    },
  });
  const { budget, endpoints, attempts, latency, bulkhead } = upstream;
  let hedges = 0;
  let closed = false;

  const repeatable: Policy = wrap(bulkhead, upstream.retry);
  const once: Policy = wrap(bulkhead, upstream.retryUnsent);
  // A streamed body is read once, and undici destroys it when its attempt fails, even one the
  // upstream never saw (a refused connection): so not even such a try (which `once` makes) can be
  // made again. A breaker's refusal still moves on to another instance, before anything is read.
  // Counted in the retry budget's requests, as every call is.
  const single: Policy = wrap(bulkhead, createRetry({ budget, clock, shouldRetry: () => false }));
  const jsonAnswers = createJsonAnswers(maxResponseBytes);

  // One attempt on the wire, on the instance the upstream core chose; its span is this client's,
  // and lasts until a body handed on unread is done.
  function send<R>(endpoint: Endpoint, call: Call<R>, signal: AbortSignal, attempt: number, isHedge: boolean, credential: CredentialHeaders): Promise<R> {
    const { instance } = endpoint;
    const span = startAttemptSpan(tracer, {
      upstream: name, instance, method: call.prepared.method, path: call.prepared.path, number: attempt, hedge: isHedge, remainingMs: call.prepared.deadlineAtMs - clock.now(),
    });
    return sendAttempt(endpoint.pool, call.prepared, call.answers, signal, { upstream: name, instance, clock, extraHeaders: credential === undefined ? span.headers : { ...span.headers, ...credential }, outside }).then((result) => {
      if (!result.ok) {
        span.end({ status: result.status, error: result.error });
        throw result.error;
      }
      const { status, body } = result;
      if (body === undefined) span.end({ status });
      else whenBodyDone(body, signal, name, instance, (error) => span.end({ status, error }));
      return result.response;
    });
  }

  function attemptCall<R>(call: Call<R>, signal: AbortSignal, attempt: number): Promise<R> {
    call.attempts = Math.max(call.attempts, attempt);
    const method = call.prepared.method;
    if (call.hedgeDelayMs === undefined) {
      return attempts.attempt(call, signal, { method, attempt, hedge: false }, undefined, (endpoint, admitted, credential) => send(endpoint, call, admitted, attempt, false, credential));
    }
    const used = new Set<Endpoint>();
    return hedge<R>({
      signal,
      delayMs: call.hedgeDelayMs,
      clock,
      attempt: (copySignal, isHedge) => attempts.attempt(call, copySignal, { method, attempt, hedge: isHedge }, used, (endpoint, admitted, credential) => send(endpoint, call, admitted, attempt, isHedge, credential)),
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

  // What request() and stream() share, up to the policy. What can be refused before any timer
  // exists (a closed client, a signal already fired, a bad path, a body JSON cannot encode)
  // throws here; a streamed body is let go of first.
  function startCall<R>(request: HttpRequest, answers: AnswerReader<R>, accept: string): StartedCall<R> {
    let path: string;
    try {
      if (closed) throw clientClosed();
      if (request.signal.aborted) throw KitError.from(request.signal.reason);
      path = pathWithQuery(request.path, request.query);
    } catch (thrown) {
      abandon(request.body, thrown);
      throw thrown;
    }
    const idempotencyKey = request.idempotencyKey ?? headerOf(request.headers, idempotencyKeyHeader);
    const streamed = request.body instanceof Readable ? request.body : undefined;
    const form = request.body instanceof URLSearchParams;
    const body = streamed ?? (request.body === undefined ? undefined : form ? String(request.body) : JSON.stringify(request.body));
    const headers = requestHeaders({
      headers: request.headers, accept, requestId: request.requestId, idempotencyKey,
      // A stream goes with the type its caller gave, in `headers`.
      contentType: body === undefined || streamed !== undefined ? undefined : form ? 'application/x-www-form-urlencoded' : 'application/json',
    });
    const ownAtMs = clock.now() + (request.timeoutMs ?? timeoutMs);
    // The call's one signal: the caller's, cut to this client's timeout. It carries the nearer
    // deadline, which the retry layer reads and each attempt sends on.
    const callSignal = createCallSignal(ownAtMs, {
      clock,
      parent: request.signal,
      reason: () => new KitError(Code.DeadlineExceeded, 'a dependency did not answer in time', { reason: 'timeout' }),
    });
    const call: Call<R> = {
      prepared: { method: request.method, path, headers, body, deadlineAtMs: Math.min(ownAtMs, deadlineOf(request.signal) ?? ownAtMs) },
      answers,
      tried: new Set(),
      attempts: 0,
      hedgeDelayMs: streamed === undefined ? hedgeDelayOf(request) : undefined,
    };
    if (streamed === undefined) {
      const policy = isRepeatable(request.method, idempotencyKey) ? repeatable : once;
      return { call, policy, signal: callSignal.signal, dispose: callSignal.dispose };
    }
    // Destroyed with the call's own reason, so whatever feeds the stream learns why it was cut.
    const forgetBody = whenAborted(callSignal.signal, () => abandon(streamed, callSignal.signal.reason));
    return { call, policy: single, signal: callSignal.signal, dispose: () => { forgetBody(); callSignal.dispose(); } };
  }

  function execute<R>({ call, policy, signal }: StartedCall<R>): Promise<R> {
    return policy.execute(({ signal: attemptSignal, attempt }) => attemptCall(call, attemptSignal, attempt), signal);
  }

  // What a failed call throws. Whatever ended it after this client retried, the layers above must
  // not retry it; a streamed body it did not send to its end is let go of.
  function failed(call: Call<unknown>, thrown: unknown, body: unknown): KitError {
    const error = KitError.from(thrown);
    abandon(body, error);
    return call.attempts > 1 ? markRetriesExhausted(error) : error;
  }

  return {
    name,
    async request<T = unknown>(request: HttpRequest): Promise<HttpResponse<T>> {
      const started = startCall(request, jsonAnswers as AnswerReader<HttpResponse<T>>, 'application/json');
      try {
        return await execute(started);
      } catch (thrown) {
        throw failed(started.call, thrown, request.body);
      } finally {
        started.dispose();
      }
    },
    async stream(request: HttpRequest, { acceptStatuses = [] }: StreamOptions = {}): Promise<StreamedResponse> {
      // Never hedged: the losing copy's answer, dropped by the race, would be a body nobody reads.
      const started = startCall({ ...request, hedge: false }, streamedAnswers(acceptStatuses), '*/*');
      let response: StreamedResponse;
      try {
        response = await execute(started);
      } catch (thrown) {
        started.dispose();
        throw failed(started.call, thrown, request.body);
      }
      // The call is over only when the body is: the deadline and the caller's signal cover it.
      return underCallSignal(response, started.signal, started.dispose);
    },
    stats(): HttpClientStats {
      const instances = upstream.instanceStats((endpoint) => ({ connections: endpoint.pool.stats.connected, idleConnections: endpoint.pool.stats.free }));
      return { upstream: name, retries: upstream.retries(), hedges, retryBudgetAvailable: budget.available(), instances };
    },
    async close() {
      closed = true;
      upstream.stop();
      await endpoints.close();
    },
  };
}

// Destroying a stream emits 'error', which would crash a process whose stream nobody listens to.
function noop(): void {}

/**
 * Destroys a streamed request body the call will not send to its end, with why (undici already
 * destroyed one whose attempt failed on the wire), so whatever feeds it stops.
 */
function abandon(body: unknown, reason: unknown): void {
  if (!(body instanceof Readable) || body.destroyed || body.readableEnded) return;
  body.on('error', noop);
  body.destroy(KitError.from(reason));
}

function headerOf(headers: Readonly<Record<string, string>> | undefined, name: string): string | undefined {
  if (headers === undefined) return undefined;
  for (const [key, value] of Object.entries(headers)) if (key.toLowerCase() === name) return value;
  return undefined;
}
