import type { DescService } from '@bufbuild/protobuf';
import { type Client, ConnectError, type Transport, createClient, createContextValues } from '@connectrpc/connect';
import { Code, KitError } from '../../errors/index.ts';
import { createUpstreamPolicies } from '../../upstream/policies.ts';
import { systemClock } from '../../resilience/clock.ts';
import { kitErrorFromConnect } from '../status.ts';
import { createBalanceInterceptor } from './balance-interceptor.ts';
import { createBulkheadInterceptor, createCallDeadlineInterceptor, createRetryInterceptor } from './call-interceptors.ts';
import { callStateKey } from './call-state.ts';
import { Health, HealthCheckResponse_ServingStatus as ServingStatus } from '@baton/contracts/grpc/health/v1';
import { createGrpcEndpoint, type GrpcEndpoint } from './endpoint.ts';
import { createUnaryGrpcTransport } from './unary-transport.ts';
import type { GrpcClient, GrpcClientOptions, GrpcClientStats } from './grpc-client-types.ts';
import { policyDefaults } from '../../resilience/defaults.ts';

const clientClosed = () => new KitError(Code.Unavailable, 'the client to this dependency is closed', { reason: 'client_closed' });
// Connect builds each call's URL from a base; the balancing interceptor puts the chosen
// instance's origin in its place, so this one is never dialled.
const placeholderBaseUrl = 'http://upstream.invalid';

/**
 * The kit's gRPC client for calls between services: a Connect-ES `Transport` speaking gRPC over
 * HTTP/2 (the kit's unary transport; one multiplexed connection per instance), with the same
 * guarantees as the kit's HTTP client, given by plain Connect interceptors around the kit's own
 * resilience policies, from the outside in:
 *
 * 1. the call's deadline: the caller's signal's, cut to `timeoutMs`;
 * 2. a bulkhead for the upstream (`maxConcurrent` in flight, a short queue, rejected past it);
 * 3. retries, only for methods the contract marks idempotent (`idempotency_level` in the
 *    .proto, read from the generated descriptors): backoff with full jitter, never past the
 *    deadline, within the client's retry budget, never for an error an upstream already
 *    retried (`x-baton-no-retry`, or `retries_exhausted` in the error detail);
 * 4. the choice of an instance (power of two choices, outlier ejection), its circuit breaker,
 *    and the attempt, which sends what remains of the deadline as `grpc-timeout`.
 *
 * Errors come out as KitErrors through the one table of codes (errors/grpc-status.ts), with the
 * upstream's detail in the cause, as the HTTP client's do.
 *
 * @example
 * const inventory = createGrpcClient({ name: 'inventory', urls: config.INVENTORY_GRPC_URLS, timeoutMs: 2_000 });
 * const api = inventory.client(InventoryService);
 * const { product } = await api.getProduct({ sku }, { signal: signalOf(request) });
 * onClose(() => inventory.close());
 */
export function createGrpcClient(options: GrpcClientOptions): GrpcClient {
  const {
    name,
    timeoutMs: defaultTimeoutMs = policyDefaults.timeoutMs,
    connectTimeoutMs = policyDefaults.connectTimeoutMs,
    pingIntervalMs = policyDefaults.grpc.pingIntervalMs,
    idleConnectionTimeoutMs = policyDefaults.grpc.idleConnectionTimeoutMs,
    clock = systemClock,
    logger,
    onEvent,
    tracer,
  } = options;

  const upstream = createUpstreamPolicies({
    ...options,
    clock,
    logger,
    onEvent,
    createEndpoint: (instance, basics) => createGrpcEndpoint(instance, { ...basics, connectTimeoutMs, pingIntervalMs, idleConnectionTimeoutMs }),
    // gRPC health's Check for the server as a whole, on the instance's own HTTP/2 connection.
    probe: async (endpoint, signal) => {
      const { status } = await healthOf(endpoint).check({ service: '' }, { signal });
      if (status !== ServingStatus.SERVING) throw new KitError(Code.Unavailable, 'the instance is not serving');
    },
  });
  const healthClients = new WeakMap<GrpcEndpoint, Client<typeof Health>>();
  function healthOf(endpoint: GrpcEndpoint): Client<typeof Health> {
    let client = healthClients.get(endpoint);
    if (client === undefined) {
      client = createClient(Health, createUnaryGrpcTransport({ sessionOf: () => endpoint.session, baseUrl: endpoint.instance }));
      healthClients.set(endpoint, client);
    }
    return client;
  }
  const { budget, endpoints } = upstream;

  // The gRPC protocol (the kit's unary transport, see its file for why not Connect's own) on
  // the HTTP/2 session of whichever instance the balancing interceptor put in the URL.
  const sessionOf = (url: string) => {
    const origin = url.slice(0, url.indexOf('/', url.indexOf('//') + 2));
    for (const endpoint of endpoints.all()) if (endpoint.instance === origin) return endpoint.session;
    throw new KitError(Code.Unavailable, 'a dependency instance left discovery during the call', { reason: 'no_instances' });
  };
  const grpc = createUnaryGrpcTransport({
    sessionOf,
    baseUrl: placeholderBaseUrl,
    readMaxBytes: options.maxResponseBytes ?? policyDefaults.maxResponseBytes,
    writeMaxBytes: policyDefaults.maxResponseBytes,
    interceptors: [
      createCallDeadlineInterceptor({ clock }),
      createBulkheadInterceptor(upstream.bulkhead),
      createRetryInterceptor(upstream),
      createBalanceInterceptor({ upstream: name, attempts: upstream.attempts, clock, tracer }),
    ],
  });

  let closed = false;
  // The kit's errors cross Connect's machinery wrapped in a ConnectError (their cause); callers
  // get the KitError back, the kit's one error type.
  const unwrap = (thrown: unknown): KitError => {
    if (thrown instanceof KitError) return thrown;
    if (thrown instanceof ConnectError) return thrown.cause instanceof KitError ? thrown.cause : kitErrorFromConnect(thrown, name, 'unknown');
    return KitError.from(thrown);
  };

  const transport: Transport = {
    async unary(method, signal, timeoutMs, header, message, contextValues) {
      if (closed) throw clientClosed();
      if (signal?.aborted === true) throw KitError.from(signal.reason);
      const values = contextValues ?? createContextValues();
      values.set(callStateKey, {
        callerSignal: signal,
        timeoutMs: timeoutMs ?? defaultTimeoutMs,
        deadlineAtMs: Infinity,
        tried: new Set(),
        attempts: 0,
      });
      try {
        // No timeout for Connect itself: the deadline interceptor owns it, and each attempt sends
        // what is left of it, not what there was when the call began.
        return await grpc.unary(method, signal, undefined, header, message, values);
      } catch (thrown) {
        throw unwrap(thrown);
      }
    },
    stream() {
      // Baton's services call each other with unary methods only; a stream would need its own
      // guarantees (a deadline per message, no retry once a message was read).
      return Promise.reject(new KitError(Code.Unimplemented, 'the kit gRPC client makes unary calls only'));
    },
  };

  return {
    name,
    transport,
    client: <S extends DescService>(service: S): Client<S> => createClient(service, transport),
    stats(): GrpcClientStats {
      const instances = upstream.instanceStats((endpoint) => ({ connection: endpoint.session.state() }));
      return { upstream: name, retries: upstream.retries(), retryBudgetAvailable: budget.available(), instances };
    },
    async close() {
      closed = true;
      upstream.stop();
      await endpoints.close();
    },
  };
}
