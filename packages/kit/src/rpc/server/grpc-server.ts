import http2 from 'node:http2';
import type { ConnectRouter, Interceptor } from '@connectrpc/connect';
import { connectNodeAdapter } from '@connectrpc/connect-node';
import { Health } from '@baton/contracts/grpc/health/v1';
import type { Readiness } from '../../service/health.ts';
import type { Logger } from '../../telemetry/index.ts';
import type { RpcServerMetrics } from '../../telemetry/metrics.ts';
import { createAnswerInterceptor, type RpcCallRecord } from './answer-interceptor.ts';
import { checkRpcCallerDeclarations, createCallerInterceptor, rpcMethodName, type RpcCallerRules } from './caller-interceptor.ts';
import type { Tracer } from '@opentelemetry/api';
import { createServerTracingInterceptor } from '../rpc-tracing.ts';
import { createHealthService } from './health-service.ts';
import { createRpcDeadlineInterceptor } from './rpc-deadline.ts';
import { createRpcFaultInterceptor, createRpcFaultResets } from './fault-injection.ts';
import type { FaultRules } from '../../service/faults.ts';
import { takeStreamsFirst } from './streams-first.ts';
import { createUnaryGrpcPath } from './unary-grpc-path.ts';

export interface GrpcServerOptions {
  host: string;
  /** `GRPC_PORT`; 0 picks a free one. */
  port: number;
  /** This service's name: the `hop` an expired deadline names. */
  service: string;
  /** Registers the service's own protobuf services; the health service is added by the server. */
  routes: (router: ConnectRouter) => void;
  readiness: Readiness;
  logger: Logger;
  metrics?: RpcServerMetrics;
  /** The budget of a call that sends none, and the cap on a longer one (`REQUEST_DEADLINE_MS`). */
  defaultDeadlineMs: number;
  /** How long after the deadline a handler that ignored its signal may still answer before the server answers for it. */
  answerGraceMs?: number;
  /** The largest message read or written, gRPC's usual 4 MiB by default; a larger one is RESOURCE_EXHAUSTED. */
  maxMessageBytes?: number;
  /** Interceptors of the service's own, inside the kit's (they see KitErrors and the kit's signal). */
  interceptors?: Interceptor[];
  onCall?: (record: RpcCallRecord) => void;
  /** A SERVER span per call, continuing the caller's trace; without it, calls are not traced. */
  tracer?: Tracer;
  /** Service identity: who may call each method, checked before the handler; unset, no caller is checked. */
  callers?: RpcCallerRules;
  /** The service's fault rules (`/admin/faults`), applied to its gRPC calls as to its HTTP routes; unset, none. */
  faults?: FaultRules;
}

export interface GrpcServer {
  /** `http://127.0.0.1:9081`: where gRPC (and Connect) clients reach it over HTTP/2 cleartext. */
  readonly url: string;
  readonly port: number;
  /**
   * Stops taking connections, lets the calls in flight finish (each connection gets a GOAWAY and
   * closes when its last stream has), and after `timeoutMs` cuts whatever is left. Resolves with
   * `clean: false` when it had to cut. Safe to call twice.
   */
  close(options: { timeoutMs: number }): Promise<{ clean: boolean }>;
}

/**
 * A service's gRPC listener: Connect-ES on Node's HTTP/2 server in cleartext (h2c), serving
 * real gRPC, gRPC-Web and the Connect protocol on one port, beside the service's HTTP port and
 * on the same domain code. Every call runs through the kit's interceptors: the answer
 * interceptor (KitError to gRPC status, one log line, metrics), then the inbound deadline
 * (`grpc-timeout` to the handler's signal). `grpc.health.v1.Health` follows the service's readiness.
 *
 * @example
 * const server = await startGrpcServer({ host, port: config.GRPC_PORT, service: 'users', readiness, logger,
 *   defaultDeadlineMs: config.REQUEST_DEADLINE_MS, routes: (router) => router.service(UsersService, impl) });
 */
export async function startGrpcServer(options: GrpcServerOptions): Promise<GrpcServer> {
  const { host, port, service, routes, readiness, logger, metrics, defaultDeadlineMs, answerGraceMs, maxMessageBytes = 4 * 1024 * 1024, interceptors = [], onCall, tracer, callers, faults } = options;
  const served: string[] = [];
  const chain = [
    ...(tracer === undefined ? [] : [createServerTracingInterceptor(tracer)]),
    createAnswerInterceptor({ logger, ...(metrics ? { metrics } : {}), ...(onCall ? { onCall } : {}) }),
    // Before the deadline and the handler: a caller without the right credential starts nothing.
    ...(callers === undefined ? [] : [createCallerInterceptor(callers)]),
    createRpcDeadlineInterceptor({ defaultDeadlineMs, service, ...(answerGraceMs === undefined ? {} : { answerGraceMs }) }),
    // After the deadline: injected latency spends the caller's budget as slow work would.
    ...(faults === undefined ? [] : [createRpcFaultInterceptor({ faults, logger })]),
    ...interceptors,
  ];
  const unary = createUnaryGrpcPath({ interceptors: chain, readMaxBytes: maxMessageBytes, writeMaxBytes: maxMessageBytes });
  const connect = connectNodeAdapter({
    interceptors: chain,
    readMaxBytes: maxMessageBytes,
    writeMaxBytes: maxMessageBytes,
    routes(router) {
      routes(unary.recording(router));
      for (const handler of router.handlers) if (!served.includes(handler.service.typeName)) served.push(handler.service.typeName);
      if (callers !== undefined) checkRpcCallerDeclarations(service, router.handlers.map((handler) => rpcMethodName(handler.service.typeName, handler.method.name)), callers.callers);
      router.service(Health, createHealthService({ readiness, services: served }));
    },
  });
  const server = http2.createServer(connect);
  // Unary gRPC calls take the kit's path (see unary-grpc-path.ts for why); the rest is Connect's.
  // A reset rule takes its stream before anything reads it.
  const resetByFault = faults === undefined ? () => false : createRpcFaultResets({ faults, logger });
  takeStreamsFirst(server, (stream, headers) => resetByFault(stream, headers) || unary.serve(stream, headers));
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('session', (session) => {
    sessions.add(session);
    session.once('close', () => sessions.delete(session));
    // A broken connection is the client's problem; an unheard 'error' would crash the process.
    session.on('error', (error) => logger.debug({ err: error }, 'gRPC connection error'));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const boundPort = (server.address() as { port: number }).port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${boundPort}`;
  logger.info({ url, port: boundPort, services: served }, `${service} gRPC listening`);

  let closing: Promise<{ clean: boolean }> | undefined;
  return {
    url,
    port: boundPort,
    close({ timeoutMs }) {
      closing ??= new Promise((resolve) => {
        let clean = true;
        const cut = setTimeout(() => {
          clean = false;
          logger.warn({ connections: sessions.size }, 'gRPC shutdown timeout reached; cutting the calls still open');
          for (const session of sessions) session.destroy();
        }, timeoutMs);
        server.close(() => {
          clearTimeout(cut);
          resolve({ clean });
        });
        // GOAWAY: no new streams on this connection; it closes once its open streams end.
        for (const session of sessions) session.close();
      });
      return closing;
    },
  };
}
