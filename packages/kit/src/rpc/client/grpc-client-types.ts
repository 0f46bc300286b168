import type { Tracer } from '@opentelemetry/api';
import type { DescService } from '@bufbuild/protobuf';
import type { Client, Transport } from '@connectrpc/connect';
import type { HttpClientEvent, HttpClientLogger } from '../../upstream/events.ts';
import type { HttpClientOptions } from '../../http/http-client-types.ts';
import type { CircuitState } from '../../resilience/index.ts';

export interface GrpcClientOptions extends Pick<HttpClientOptions,
  'name' | 'urls' | 'discovery' | 'dns' | 'timeoutMs' | 'connectTimeoutMs' | 'maxResponseBytes' | 'retryBudget' | 'breaker' | 'bulkhead' | 'outlierDetection' | 'balancer' | 'clock'> {
  /** Which errors are worth another try (`isRetryable`); only idempotent methods are ever retried. */
  retry?: Omit<NonNullable<HttpClientOptions['retry']>, never>;
  /** PING an open connection this often (default 30 s), and drop it when a PING goes unanswered. */
  pingIntervalMs?: number;
  /** Close a connection unused this long (default 60 s). */
  idleConnectionTimeoutMs?: number;
  logger?: HttpClientLogger;
  /** Makes a CLIENT span per attempt and sends `traceparent` in the metadata; without it, calls are not traced. */
  tracer?: Tracer;
  /** The same events as the HTTP client's (`method` is the protobuf method's name): metrics, spans, logs. */
  onEvent?: (event: HttpClientEvent) => void;
}

export interface GrpcInstanceStats {
  instance: string;
  outstanding: number;
  ewmaLatencyMs: number;
  breaker: CircuitState;
  ejected: boolean;
  /** The state of its HTTP/2 connection (`idle`, `open`, `closed`, `error`, ...). */
  connection: string;
}

export interface GrpcClientStats {
  upstream: string;
  retries: number;
  /** Retries the client's budget allows now. */
  retryBudgetAvailable: number;
  instances: GrpcInstanceStats[];
}

export interface GrpcClient {
  readonly name: string;
  /** The Connect transport every call goes through; `createClient(Service, client.transport)` works too. */
  readonly transport: Transport;
  /** A typed client for one service of the upstream: `client(UsersService).getUser({ id }, { signal })`. */
  client<S extends DescService>(service: S): Client<S>;
  stats(): GrpcClientStats;
  /** Stops discovery and closes every connection once the calls in flight are over. */
  close(): Promise<void>;
}
