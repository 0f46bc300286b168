import { context, propagation, trace, type Tracer } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter as OtlpJsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as OtlpProtobufExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler, AlwaysOnSampler, BatchSpanProcessor, ParentBasedSampler, TraceIdRatioBasedSampler, TracerProvider,
  type Sampler, type SpanProcessor,
} from '@opentelemetry/sdk-trace';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import { createPropagatingTracer } from './propagating-tracer.ts';

/** The sampler names of the OpenTelemetry environment specification (`OTEL_TRACES_SAMPLER`). */
export const samplerNames = ['always_on', 'always_off', 'traceidratio', 'parentbased_always_on', 'parentbased_always_off', 'parentbased_traceidratio'] as const;
export type SamplerName = (typeof samplerNames)[number];

/** The OTLP/HTTP encodings of the OpenTelemetry environment specification (`OTEL_EXPORTER_OTLP_PROTOCOL`). */
export const otlpProtocols = ['http/json', 'http/protobuf'] as const;
export type OtlpProtocol = (typeof otlpProtocols)[number];

export interface TracingOptions {
  service: string;
  /** Off: spans are not even made (the tracer is a no-op), so logs carry no trace ids. */
  enabled?: boolean;
  /**
   * Where spans go as OTLP/HTTP (`<endpoint>/v1/traces`). Without it (and without
   * `spanProcessors`) nothing listens: no span is recorded, but the trace context still flows
   * (see {@link createPropagatingTracer}).
   */
  otlpEndpoint?: string | undefined;
  /**
   * The encoding spans are sent in. JSON by default, though OpenTelemetry's own default is
   * protobuf: in OpenTelemetry JS, encoding a span as protobuf costs the service about three times
   * the CPU of JSON (`node bench/profile/otlp-encoding.ts`: 8.2-11.3 µs a span against 2.9-3.8, five runs), for
   * under half the bytes. Receivers take either (the kit's collector and the console do).
   */
  otlpProtocol?: OtlpProtocol;
  sampler?: SamplerName;
  /** For the ratio samplers: the share of traces kept, in [0, 1]. */
  samplerRatio?: number;
  /** How often finished spans are sent in a batch. */
  exportDelayMs?: number;
  /** Added for tests and for a collector in the same process. */
  spanProcessors?: SpanProcessor[];
}

export interface Tracing {
  /** The service's tracer; a no-op one when tracing is off, a non-recording one that only propagates when nothing listens. */
  readonly tracer: Tracer;
  /** Whether spans are recorded for someone (an exporter or a processor): when false, work done only to describe a span can be skipped. */
  readonly recording: boolean;
  /** Sends what is buffered now (before a test reads its receiver, or at shutdown). */
  flush(): Promise<void>;
  /** Flushes and stops exporting; after it, spans are dropped. */
  shutdown(): Promise<void>;
}

let contextInstalled = false;

/**
 * The parts of OpenTelemetry that are one per process, installed once: the context manager
 * (AsyncLocalStorage, so the active span follows async work) and the W3C propagators
 * (`traceparent`, `tracestate`, `baggage`) used on HTTP, gRPC metadata and event headers.
 * Tracer providers are not global: each service in a process has its own, named after it.
 */
export function installTraceContext(): void {
  if (contextInstalled) return;
  contextInstalled = true;
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] }));
}

function samplerOf(name: SamplerName, ratio: number): Sampler {
  switch (name) {
    case 'always_on': return new AlwaysOnSampler();
    case 'always_off': return new AlwaysOffSampler();
    case 'traceidratio': return new TraceIdRatioBasedSampler(ratio);
    case 'parentbased_always_on': return new ParentBasedSampler({ root: new AlwaysOnSampler() });
    case 'parentbased_always_off': return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio': return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio) });
  }
}

/**
 * A service's tracing. When something listens (an OTLP endpoint, or processors given), a tracer
 * provider with the service's name as its resource, the chosen sampler (by default the parent's
 * decision, else the ratio) and a batch exporter to the endpoint. When nothing listens, no
 * provider at all: a tracer that records nothing and only carries the context on, so tracing
 * costs next to nothing until someone asks for spans.
 *
 * @example
 * const tracing = createTracing({ service: 'orders', otlpEndpoint: config.OTEL_EXPORTER_OTLP_ENDPOINT });
 * const span = tracing.tracer.startSpan('reserve stock');
 */
export function createTracing({
  service,
  enabled = true,
  otlpEndpoint,
  otlpProtocol = 'http/json',
  sampler = 'parentbased_traceidratio',
  samplerRatio = 1,
  exportDelayMs = 1_000,
  spanProcessors = [],
}: TracingOptions): Tracing {
  installTraceContext();
  if (!enabled) {
    return { tracer: trace.getTracer('baton-noop'), recording: false, flush: async () => {}, shutdown: async () => {} };
  }
  const processors = [...spanProcessors];
  if (otlpEndpoint !== undefined) {
    const exporterOptions = { url: new URL('v1/traces', otlpEndpoint.endsWith('/') ? otlpEndpoint : `${otlpEndpoint}/`).href, timeoutMillis: 5_000 };
    const exporter = otlpProtocol === 'http/json' ? new OtlpJsonExporter(exporterOptions) : new OtlpProtobufExporter(exporterOptions);
    processors.push(new BatchSpanProcessor({ exporter, scheduledDelayMillis: exportDelayMs }));
  }
  if (processors.length === 0) {
    return { tracer: createPropagatingTracer(), recording: false, flush: async () => {}, shutdown: async () => {} };
  }
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: service }),
    sampler: samplerOf(sampler, samplerRatio),
    spanProcessors: processors,
  });
  return {
    tracer: provider.getTracer('baton'),
    recording: true,
    flush: () => provider.forceFlush(),
    shutdown: () => provider.shutdown(),
  };
}
