import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SpanKind, context, propagation, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace';
import { createTracing } from '../telemetry/tracing/tracing.ts';
import type { CloudEvent } from './cloud-event.ts';
import { inProcessSpan, startPublishSpans, traceContextForNewEvent } from './event-tracing.ts';

void test('an event carries its creator\'s trace and baggage; the send and process spans continue it, the consumer linked to the producer', async () => {
  const exporter = new InMemorySpanExporter();
  const tracing = createTracing({ service: 'events-test', spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  const request = tracing.tracer.startSpan('POST /v1/orders', { kind: SpanKind.SERVER });
  const baggage = propagation.createBaggage({ tenant: { value: 'acme' } });
  const active = propagation.setBaggage(trace.setSpan(context.active(), request), baggage);
  const traceContext = context.with(active, () => traceContextForNewEvent(tracing.tracer, { type: 'order.created', domain: 'orders', id: 'e-1' }));
  request.end();
  assert.match(traceContext.traceparent, new RegExp(`^00-${request.spanContext().traceId}-`));
  assert.equal(traceContext.baggage, 'tenant=acme');

  const event = { id: 'e-1', type: 'order.created', ...traceContext } as CloudEvent;
  const sends = startPublishSpans(tracing.tracer, 'nats', [event]);
  sends.end(0);
  let seenTenant: string | undefined;
  await inProcessSpan(tracing.tracer, { system: 'nats', subscription: 'notifications', event, attempt: 2 }, async () => {
    seenTenant = propagation.getBaggage(context.active())?.getEntry('tenant')?.value;
  });

  const spans = exporter.getFinishedSpans();
  const create = spans.find((s) => s.name === 'create order.created');
  const send = spans.find((s) => s.name === 'send order.created');
  const processed = spans.find((s) => s.name === 'process order.created');
  assert.ok(create && send && processed);
  assert.equal(create.parentSpanContext?.spanId, request.spanContext().spanId, 'created inside the request');
  assert.equal(send.parentSpanContext?.spanId, create.spanContext().spanId);
  assert.equal(processed.kind, SpanKind.CONSUMER);
  assert.equal(processed.parentSpanContext?.spanId, create.spanContext().spanId, 'the consumer is in the same trace');
  assert.deepEqual(processed.links.map((l) => l.context.spanId), [create.spanContext().spanId], 'and linked to the producer');
  assert.equal(processed.attributes['messaging.message.delivery_attempt'], 2);
  assert.equal(seenTenant, 'acme', 'the request\'s baggage reaches the consumer');
  await tracing.shutdown();
});
