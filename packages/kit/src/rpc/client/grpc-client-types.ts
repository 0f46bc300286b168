import type { DescService } from '@bufbuild/protobuf';
import type { Client, Transport } from '@connectrpc/connect';
import type { CircuitState } from '../../resilience/index.ts';
import type { UpstreamOptions } from '../../upstream/options.ts';

/**
 * What the gRPC client adds to what every client of an upstream is configured with. Its events
 * are the HTTP client's (`method` is the protobuf method's name); only methods the contract
 * marks idempotent are retried once the upstream may have got them.
 */
export interface GrpcClientOptions extends UpstreamOptions {
  /** PING an open connection this often (default 30 s), and drop it when a PING goes unanswered. */
  pingIntervalMs?: number;
  /** Close a connection unused this long (default 60 s). */
  idleConnectionTimeoutMs?: number;
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
