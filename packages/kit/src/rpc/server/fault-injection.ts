import http2 from 'node:http2';
import type { Interceptor } from '@connectrpc/connect';
import { drawFault, injectedFaultError, waitFaultLatency, type FaultRules } from '../../service/faults.ts';
import type { Logger } from '../../telemetry/index.ts';

export interface RpcFaultOptions {
  faults: FaultRules;
  logger: Logger;
  random?: () => number;
}

// Probes see a frozen process as it is (the console's freeze); a fault rule never answers for them.
const healthPathPrefix = '/grpc.health.v1.Health/';

/**
 * The kit's fault injection (`service/faults.ts`) on a gRPC listener, with the same rules the
 * admin listener's `/admin/faults` sets: a rule's `route` is a method's path
 * (`/baton.inventory.v1.InventoryService/Reserve`) or `*`, and gRPC's method is POST. Latency and
 * error statuses are applied here, after the inbound deadline (so a latency past the caller's
 * budget ends in DEADLINE_EXCEEDED naming this service) and inside the answer interceptor (so
 * the injected answer is logged and counted as any other). A status is mapped as a KitError is,
 * 503 to UNAVAILABLE, 500 to INTERNAL. Reset rules are `createRpcFaultResets`'s.
 */
export function createRpcFaultInterceptor({ faults, logger, random = Math.random }: RpcFaultOptions): Interceptor {
  // Not an async function: with no rules (every call of a real service) a call pays no promise.
  return (next) => function injectFault(req) {
    const active = faults.active;
    if (active.length === 0 || req.stream) return next(req);
    const path = `/${req.service.typeName}/${req.method.name}`;
    if (path.startsWith(healthPathPrefix)) return next(req);
    // A reset after the work is HTTP's only; on gRPC such a rule holds back its latency.
    const rule = drawFault(active, 'POST', path, random, (r) => r.reset !== true || r.after === true);
    if (rule === undefined) return next(req);
    logger.warn({ fault: rule, procedure: path }, 'injecting a fault');
    return (async () => {
      if (rule.after === true) {
        // The work first, then its answer held back: the effect is real, the answer late.
        const answer = await next(req);
        if (!await waitFaultLatency(rule, req.signal)) throw req.signal.reason;
        return answer;
      }
      // A caller that left is answered by nobody; its own signal's reason ends the call.
      if (!await waitFaultLatency(rule, req.signal)) throw req.signal.reason;
      if (rule.status !== undefined) throw injectedFaultError(rule.status);
      return next(req);
    })();
  };
}

/**
 * Reset rules on a gRPC listener: the call's stream is reset (RST_STREAM, INTERNAL_ERROR) after
 * the rule's latency, unread and unanswered, as a connection dropped mid-call looks to a gRPC
 * client. A stream, not the connection: one HTTP/2 connection carries every call a client makes,
 * and a rule for a share of calls must not cut the others. Runs before the stream is read, so it
 * works on every kind of call. True when it took the stream.
 */
export function createRpcFaultResets({ faults, logger, random = Math.random }: RpcFaultOptions): (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => boolean {
  return function resetByFault(stream, headers) {
    const active = faults.active;
    if (active.length === 0) return false;
    const path = headers[':path'] ?? '';
    if (path.startsWith(healthPathPrefix)) return false;
    const rule = drawFault(active, headers[':method'] ?? 'POST', path, random, (r) => r.reset === true && r.after !== true);
    if (rule === undefined) return false;
    logger.warn({ fault: rule, procedure: path }, 'injecting a fault');
    stream.on('error', () => undefined);
    stream.resume();
    const reset = () => {
      if (!stream.closed && !stream.destroyed) stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
    };
    if (rule.latencyMs === undefined || rule.latencyMs === 0) {
      reset();
      return true;
    }
    const timer = setTimeout(reset, rule.latencyMs);
    stream.once('close', () => clearTimeout(timer));
    return true;
  };
}
