import { type Span, trace } from '@opentelemetry/api';

/**
 * Records a decision of the call's policies (a retry, a hedge, a breaker's refusal) as an event
 * on the span active for the call, where it sits beside the attempts it explains.
 */
export function recordCallEvent(name: string, attributes: Record<string, string | number | boolean>): void {
  const span: Span | undefined = trace.getActiveSpan();
  span?.addEvent(name, attributes);
}
