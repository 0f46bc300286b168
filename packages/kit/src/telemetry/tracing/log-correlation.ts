import { trace } from '@opentelemetry/api';

/**
 * The pino mixin that puts the active span's `trace_id` and `span_id` on every log line, so a
 * log line leads to its trace. Nothing is added outside a span. A request whose trace was not
 * sampled still has ids (the caller's trace id, propagated), and its lines carry them: no trace
 * of it is kept, but its lines join up across services all the same, as OpenTelemetry's own
 * log correlation does.
 */
export function traceLogFields(): Record<string, string> {
  const span = trace.getActiveSpan();
  if (span === undefined) return {};
  const { traceId, spanId } = span.spanContext();
  if (!trace.isSpanContextValid(span.spanContext())) return {};
  return { trace_id: traceId, span_id: spanId };
}
