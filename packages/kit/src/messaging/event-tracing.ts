import { ROOT_CONTEXT, SpanKind, SpanStatusCode, context, propagation, trace, type Context, type Tracer } from '@opentelemetry/api';
import { ATTR_ERROR_TYPE } from '@opentelemetry/semantic-conventions';
import {
  ATTR_MESSAGING_CONSUMER_GROUP_NAME, ATTR_MESSAGING_DESTINATION_NAME, ATTR_MESSAGING_MESSAGE_ID, ATTR_MESSAGING_OPERATION_TYPE, ATTR_MESSAGING_SYSTEM,
} from '../telemetry/tracing/attributes.ts';
import type { CloudEvent } from './cloud-event.ts';
import { childTraceparent } from './trace-context.ts';

/** The `messaging.system` of each transport; the HTTP feed is Baton's own. */
export const messagingSystemOf = { nats: 'nats', rabbitmq: 'rabbitmq', feed: 'baton_http_feed' } as const;

const carrierGetter = {
  keys: (carrier: Record<string, string>) => Object.keys(carrier),
  get: (carrier: Record<string, string>, key: string) => carrier[key],
};

/** The context an event carries, as OpenTelemetry reads it: a remote parent. */
export function contextOfEvent(event: Pick<CloudEvent, 'traceparent' | 'tracestate' | 'baggage'>): Context {
  const carrier: Record<string, string> = { traceparent: event.traceparent };
  if (event.tracestate !== undefined) carrier.tracestate = event.tracestate;
  if (event.baggage !== undefined) carrier.baggage = event.baggage;
  return propagation.extract(ROOT_CONTEXT, carrier, carrierGetter);
}

/**
 * The trace context (and baggage) to write on a new event. With a tracer, a PRODUCER `create {type}` span,
 * a child of the work that makes the event (the request, inside its transaction), whose context
 * the event carries: the relay's publish span and every consumer's span continue from it.
 * Without one (a tool, a test), a child of the caller's `traceparent` with a fresh span id.
 */
export function traceContextForNewEvent(tracer: Tracer | undefined, { type, domain, id }: { type: string; domain: string; id: string }, callerTraceparent?: string): Pick<CloudEvent, 'traceparent' | 'tracestate' | 'baggage'> {
  if (tracer === undefined || trace.getActiveSpan() === undefined) return { traceparent: childTraceparent(callerTraceparent) };
  const span = tracer.startSpan(`create ${type}`, {
    kind: SpanKind.PRODUCER,
    attributes: { [ATTR_MESSAGING_OPERATION_TYPE]: 'create', [ATTR_MESSAGING_DESTINATION_NAME]: domain, [ATTR_MESSAGING_MESSAGE_ID]: id },
  });
  const carrier: Record<string, string> = {};
  propagation.inject(trace.setSpan(context.active(), span), carrier);
  // When nothing records spans, the span is the request's context itself: the event still gets a span id of its own.
  const traceparent = carrier.traceparent === undefined ? childTraceparent(callerTraceparent) : span.isRecording() ? carrier.traceparent : childTraceparent(carrier.traceparent);
  span.end();
  return {
    traceparent,
    ...(carrier.tracestate === undefined ? {} : { tracestate: carrier.tracestate }),
    ...(carrier.baggage === undefined ? {} : { baggage: carrier.baggage }),
  };
}

export interface PublishSpans {
  end(index: number, error?: unknown): void;
}

/** A PRODUCER `send {type}` span per event of a relay's batch, each in its event's trace. */
export function startPublishSpans(tracer: Tracer | undefined, system: string, events: readonly CloudEvent[]): PublishSpans {
  if (tracer === undefined) return { end: () => undefined };
  const spans = events.map((event) => tracer.startSpan(`send ${event.type}`, {
    kind: SpanKind.PRODUCER,
    attributes: {
      [ATTR_MESSAGING_SYSTEM]: system,
      [ATTR_MESSAGING_OPERATION_TYPE]: 'send',
      [ATTR_MESSAGING_DESTINATION_NAME]: event.type,
      [ATTR_MESSAGING_MESSAGE_ID]: event.id,
    },
  }, contextOfEvent(event)));
  return {
    end(index, error) {
      const span = spans[index];
      if (span === undefined) return;
      if (error !== undefined) {
        span.setAttribute(ATTR_ERROR_TYPE, (error as { code?: unknown }).code === undefined ? 'publish_failed' : String((error as { code?: unknown }).code));
        span.setStatus({ code: SpanStatusCode.ERROR });
      }
      span.end();
    },
  };
}

/**
 * Runs the handling of one delivery as a CONSUMER `process {type}` span: in the event's trace
 * (its parent is the producer's span the event carries) and linked to it, as the messaging
 * conventions say, so the trace runs from the request through the broker to what the consumer
 * did, and its database statements and log lines are the span's.
 */
export async function inProcessSpan<T>(tracer: Tracer | undefined, { system, subscription, event, attempt }: {
  system: string; subscription: string; event: CloudEvent; attempt: number;
}, work: () => Promise<T>): Promise<T> {
  if (tracer === undefined) return work();
  const producer = contextOfEvent(event);
  const producerSpan = trace.getSpanContext(producer);
  const span = tracer.startSpan(`process ${event.type}`, {
    kind: SpanKind.CONSUMER,
    attributes: {
      [ATTR_MESSAGING_SYSTEM]: system,
      [ATTR_MESSAGING_OPERATION_TYPE]: 'process',
      [ATTR_MESSAGING_DESTINATION_NAME]: event.type,
      [ATTR_MESSAGING_MESSAGE_ID]: event.id,
      [ATTR_MESSAGING_CONSUMER_GROUP_NAME]: subscription,
      'messaging.message.delivery_attempt': attempt,
    },
    links: producerSpan === undefined ? [] : [{ context: producerSpan }],
  }, producer);
  try {
    return await context.with(trace.setSpan(producer, span), work);
  } catch (error) {
    span.setAttribute(ATTR_ERROR_TYPE, 'handler_failed');
    span.setStatus({ code: SpanStatusCode.ERROR });
    throw error;
  } finally {
    span.end();
  }
}
