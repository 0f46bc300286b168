import { traceIds } from '../telemetry/tracing/trace-ids.ts';

/**
 * W3C Trace Context (`traceparent`: version-traceid-parentid-flags), as an event carries it:
 * event-tracing.ts starts the publisher's and the consumer's spans from it.
 */
const traceparentPattern = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

export interface TraceContext {
  traceId: string;
  spanId: string;
  flags: string;
}

export function parseTraceparent(value: string | undefined): TraceContext | undefined {
  const match = value === undefined ? null : traceparentPattern.exec(value.trim());
  if (match === null) return undefined;
  const [, traceId = '', spanId = '', flags = ''] = match;
  // All-zero ids are invalid by the specification.
  if (/^0+$/.test(traceId) || /^0+$/.test(spanId)) return undefined;
  return { traceId, spanId, flags };
}

export function formatTraceparent({ traceId, spanId, flags }: TraceContext): string {
  return `00-${traceId}-${spanId}-${flags}`;
}

/**
 * The context to put on an event: a child of the caller's trace when there is one (a new span
 * id, same trace), else the root of a new, sampled trace.
 */
export function childTraceparent(parent?: string): string {
  const context = parseTraceparent(parent);
  const spanId = traceIds.generateSpanId();
  if (context !== undefined) return formatTraceparent({ ...context, spanId });
  return formatTraceparent({ traceId: traceIds.generateTraceId(), spanId, flags: '01' });
}
