import { trace } from '@opentelemetry/api';

/**
 * The pino mixin that puts the active span's `trace_id` and `span_id` on every log line, so a
 * log line leads to its trace. Nothing is added outside a sampled or recording span.
 */
export function traceLogFields(): Record<string, string> {
  const span = trace.getActiveSpan();
  if (span === undefined) return {};
  const { traceId, spanId } = span.spanContext();
  if (!trace.isSpanContextValid(span.spanContext())) return {};
  return { trace_id: traceId, span_id: spanId };
}
