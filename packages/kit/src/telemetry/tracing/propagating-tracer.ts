import { TraceFlags, context, trace, type Context, type Span, type SpanOptions, type Tracer } from '@opentelemetry/api';
import { traceIds } from './trace-ids.ts';

/**
 * The tracer of a service whose spans nobody listens for (no exporter, no processor): it records
 * nothing, yet the trace context still flows. Every span it starts is non-recording: under a
 * valid parent (the caller's `traceparent`, or an enclosing span) it is that parent's context
 * itself, so what goes out is what came in and a caller's trace reaches the callees unbroken, its
 * sampled flag included; with no parent it is a new trace (fresh ids, not sampled), so a request
 * still has a trace id for its log lines and its callees. This is what the OpenTelemetry API does
 * without an SDK, but for the root, which the API leaves without ids.
 */
export function createPropagatingTracer(): Tracer {
  function startSpan(_name: string, options?: SpanOptions, parentContext: Context = context.active()): Span {
    const parent = options?.root === true ? undefined : trace.getSpanContext(parentContext);
    if (parent !== undefined && trace.isSpanContextValid(parent)) return trace.wrapSpanContext(parent);
    return trace.wrapSpanContext({ traceId: traceIds.generateTraceId(), spanId: traceIds.generateSpanId(), traceFlags: TraceFlags.NONE });
  }

  function startActiveSpan<F extends (span: Span) => unknown>(name: string, ...rest: [F] | [SpanOptions, F] | [SpanOptions, Context, F]): ReturnType<F> {
    const fn = rest.at(-1) as (span: Span) => ReturnType<F>;
    const options = rest.length >= 2 ? rest[0] as SpanOptions : undefined;
    const parentContext = rest.length === 3 ? rest[1] : context.active();
    const span = startSpan(name, options, parentContext);
    return context.with(trace.setSpan(parentContext, span), fn, undefined, span);
  }

  const tracer = { startSpan, startActiveSpan } as Tracer;
  propagatingTracers.add(tracer);
  return tracer;
}

const propagatingTracers = new WeakSet<Tracer>();

/**
 * Whether a tracer is one of `createPropagatingTracer`'s, whose spans record nothing whatever
 * they are given: a caller can then leave out the name and attributes it would build for them.
 */
export function isPropagatingTracer(tracer: Tracer): boolean {
  return propagatingTracers.has(tracer);
}
