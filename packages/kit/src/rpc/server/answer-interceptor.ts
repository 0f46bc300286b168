import type { Interceptor } from '@connectrpc/connect';
import { Code, type KitError } from '../../errors/index.ts';
import type { Logger } from '../../telemetry/index.ts';
import type { RpcServerMetrics } from '../../telemetry/metrics.ts';
import { kitErrorFromHandler, toConnectError } from '../status.ts';

/** One finished call, as the answer interceptor saw it; where a span would end. */
export interface RpcCallRecord {
  service: string;
  method: string;
  /** `ok`, or the Baton code it was answered with. */
  code: 'ok' | Code;
  durationMs: number;
  error: KitError | undefined;
}

export interface AnswerInterceptorOptions {
  logger: Logger;
  metrics?: RpcServerMetrics;
  /**
   * Sees every finished unary call. The place for tracing to end a span (and for tests to see
   * what the server did); a span would start where this interceptor starts.
   */
  onCall?: (record: RpcCallRecord) => void;
}

/**
 * The outermost server interceptor: the gRPC twin of the HTTP error handler. Whatever a handler
 * throws becomes a KitError (an unknown error is `internal`, its stack in the log), answered as
 * its gRPC status through the one table, with its caller-safe message and a
 * `baton.kit.v1.ErrorDetail`; never its cause. One log line per call, by protobuf method and
 * code, and the `rpc_server_*` metrics.
 */
export function createAnswerInterceptor({ logger, metrics, onCall }: AnswerInterceptorOptions): Interceptor {
  return (next) => async function answer(req) {
    // Streams (the health Watch) are long-lived and answer for themselves.
    if (req.stream) return next(req);
    const startedAt = performance.now();
    const service = req.service.typeName;
    const method = req.method.name;
    const finish = (code: 'ok' | Code, error: KitError | undefined) => {
      const durationMs = performance.now() - startedAt;
      const labels = { service, method, code };
      metrics?.requests.inc(labels);
      metrics?.duration.observe(labels, durationMs / 1000);
      onCall?.({ service, method, code, durationMs, error });
      return durationMs;
    };
    try {
      const res = await next(req);
      const durationMs = finish('ok', undefined);
      if (logger.isLevelEnabled('info')) logger.info({ rpc: `${service}/${method}`, code: 'ok', duration_ms: Math.round(durationMs * 10) / 10 }, 'rpc completed');
      return res;
    } catch (thrown) {
      const error = kitErrorFromHandler(thrown);
      const durationMs = Math.round(finish(error.code, error) * 10) / 10;
      const fields = { rpc: `${service}/${method}`, code: error.code, reason: error.reason, duration_ms: durationMs };
      if (error.code === Code.DeadlineExceeded || error.code === Code.Unavailable || error.code === Code.Canceled) {
        // Expected failures of a distributed system, not bugs: a stack would say nothing.
        logger.warn({ ...fields, hop: error.details.hop }, error.message);
      } else if (error.code === Code.Internal || error.code === Code.Unknown || error.code === Code.DataLoss) {
        logger.error({ ...fields, err: thrown }, 'rpc failed');
      } else {
        logger.info(fields, error.message);
      }
      throw toConnectError(error);
    }
  };
}
