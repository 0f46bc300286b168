import { SpanKind, SpanStatusCode, context, propagation, trace, type Tracer } from '@opentelemetry/api';
import {
  ATTR_ERROR_TYPE, ATTR_HTTP_REQUEST_METHOD, ATTR_HTTP_REQUEST_RESEND_COUNT, ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_SERVER_ADDRESS, ATTR_SERVER_PORT, ATTR_URL_FULL,
} from '@opentelemetry/semantic-conventions';
import type { KitError } from '../errors/index.ts';
import { ATTR_BATON_DEADLINE_MS, ATTR_BATON_ERROR_CODE, ATTR_BATON_HEDGE, ATTR_BATON_UPSTREAM } from '../telemetry/tracing/attributes.ts';

export interface AttemptSpan {
  /** `traceparent` (and `baggage`) naming this attempt's span as the callee's parent. */
  readonly headers: Record<string, string>;
  end(outcome: { status?: number | undefined; error?: KitError | undefined }): void;
}

const noSpan: AttemptSpan = { headers: {}, end: () => undefined };

interface InstanceAddress { origin: string; hostname: string; port: number }

// An instance's address, parsed once: WHATWG URL parsing on every attempt was the largest part
// of a recorded attempt span's cost (1.3% of orders' CPU under checkout, bench/profile).
// Instances are few and long-lived; the map is emptied should discovery ever churn through many.
const instanceAddresses = new Map<string, InstanceAddress>();
const maxInstanceAddresses = 1_024;

function addressOf(instance: string): InstanceAddress {
  let address = instanceAddresses.get(instance);
  if (address === undefined) {
    const url = new URL(instance);
    address = { origin: url.origin, hostname: url.hostname, port: Number(url.port || (url.protocol === 'https:' ? 443 : 80)) };
    if (instanceAddresses.size >= maxInstanceAddresses) instanceAddresses.clear();
    instanceAddresses.set(instance, address);
  }
  return address;
}

/** The path without its query: a query may carry what a trace must not keep. */
function pathOnly(path: string): string {
  const query = path.indexOf('?');
  return query === -1 ? path : path.slice(0, query);
}

/**
 * A CLIENT span for one attempt of a call, after the HTTP client conventions: a retry is a new
 * span with `http.request.resend_count`, a hedge is marked `baton.hedge`, and the attempt's
 * error says which kit code ended it (`deadline_exceeded` when the deadline ran out).
 */
export function startAttemptSpan(tracer: Tracer | undefined, attempt: {
  upstream: string; instance: string; method: string; path: string; number: number; hedge: boolean; remainingMs: number;
}): AttemptSpan {
  if (tracer === undefined) return noSpan;
  const span = tracer.startSpan(attempt.method, { kind: SpanKind.CLIENT });
  // Described only when someone records it: when nothing listens, the span only carries the context on.
  if (span.isRecording()) {
    const address = addressOf(attempt.instance);
    span.setAttributes({
      [ATTR_HTTP_REQUEST_METHOD]: attempt.method,
      [ATTR_SERVER_ADDRESS]: address.hostname,
      [ATTR_SERVER_PORT]: address.port,
      [ATTR_URL_FULL]: `${address.origin}${pathOnly(attempt.path)}`,
      [ATTR_BATON_UPSTREAM]: attempt.upstream,
      [ATTR_BATON_DEADLINE_MS]: Math.round(attempt.remainingMs),
      ...(attempt.number > 1 ? { [ATTR_HTTP_REQUEST_RESEND_COUNT]: attempt.number - 1 } : {}),
      ...(attempt.hedge ? { [ATTR_BATON_HEDGE]: true } : {}),
    });
  }
  const headers: Record<string, string> = {};
  propagation.inject(trace.setSpan(context.active(), span), headers);
  return {
    headers,
    end({ status, error }) {
      if (status !== undefined) span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, status);
      if (error !== undefined) {
        span.setAttribute(ATTR_ERROR_TYPE, status !== undefined && status >= 400 ? String(status) : error.code);
        span.setAttribute(ATTR_BATON_ERROR_CODE, error.code);
        span.setStatus({ code: SpanStatusCode.ERROR, message: error.reason ?? error.code });
      }
      span.end();
    },
  };
}
