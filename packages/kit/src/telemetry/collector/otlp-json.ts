import { z } from 'zod';

/**
 * The OTLP/HTTP JSON encoding of ExportTraceServiceRequest, as far as a trace view needs it.
 * Ids are hex strings and 64-bit integers may come as strings or numbers (the OTLP JSON rules).
 */
// A span attribute is a primitive or an array of primitives (OpenTelemetry's attribute rules);
// OTLP's AnyValue could nest arrays without end, which a receiver would have to recurse through,
// so an array inside an array is refused here, where it is read.
const primitiveValue = {
  stringValue: z.string().optional(),
  boolValue: z.boolean().optional(),
  intValue: z.union([z.string(), z.number()]).optional(),
  doubleValue: z.number().optional(),
};
const noNestedArray = { arrayValue: z.undefined({ error: 'an attribute is a primitive or an array of primitives, not an array of arrays' }).optional() };
const anyValue = z.object({
  ...primitiveValue,
  arrayValue: z.object({ values: z.array(z.object({ ...primitiveValue, ...noNestedArray })).default([]) }).optional(),
});
const keyValues = z.array(z.object({ key: z.string(), value: anyValue })).default([]);
const nanos = z.union([z.string().regex(/^\d+$/), z.number().int().nonnegative()]);
const hexId = (bytes: number) => z.string().regex(new RegExp(`^[0-9a-f]{${bytes * 2}}$`), `expected ${bytes * 2} hex digits`);

const spanSchema = z.object({
  traceId: hexId(16),
  spanId: hexId(8),
  parentSpanId: z.union([hexId(8), z.literal('')]).optional(),
  name: z.string(),
  kind: z.number().int().min(0).max(5).default(0),
  startTimeUnixNano: nanos,
  endTimeUnixNano: nanos,
  attributes: keyValues,
  events: z.array(z.object({ name: z.string(), timeUnixNano: nanos, attributes: keyValues })).default([]),
  links: z.array(z.object({ traceId: hexId(16), spanId: hexId(8), attributes: keyValues })).default([]),
  status: z.object({ code: z.number().int().default(0), message: z.string().optional() }).default({ code: 0 }),
});

export const exportTraceRequestSchema = z.object({
  resourceSpans: z.array(z.object({
    resource: z.object({ attributes: keyValues }).default({ attributes: [] }),
    scopeSpans: z.array(z.object({ spans: z.array(spanSchema).default([]) })).default([]),
  })).default([]),
});

export type AttributeValue = string | number | boolean | Array<string | number | boolean>;

/** A finished span as the trace view keeps it. */
export interface CollectedSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string | undefined;
  service: string;
  name: string;
  kind: 'unspecified' | 'internal' | 'server' | 'client' | 'producer' | 'consumer';
  startNs: bigint;
  endNs: bigint;
  attributes: Record<string, AttributeValue>;
  events: Array<{ name: string; timeNs: bigint; attributes: Record<string, AttributeValue> }>;
  links: Array<{ traceId: string; spanId: string }>;
  status: 'unset' | 'ok' | 'error';
  statusMessage: string | undefined;
}

export const kindNames = ['unspecified', 'internal', 'server', 'client', 'producer', 'consumer'] as const;
export const statusNames = ['unset', 'ok', 'error'] as const;

function valueOf(value: unknown): AttributeValue {
  const v = value as { stringValue?: string; boolValue?: boolean; intValue?: string | number; doubleValue?: number; arrayValue?: { values: unknown[] } };
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return v.doubleValue;
  if (v.arrayValue !== undefined) return v.arrayValue.values.map((item) => valueOf(item) as string | number | boolean); // one level: the schema refuses more
  return '';
}

function attributesOf(list: Array<{ key: string; value: unknown }>): Record<string, AttributeValue> {
  return Object.fromEntries(list.map(({ key, value }) => [key, valueOf(value)]));
}

/** The spans of one export request, flattened, each with its service's name. */
export function spansOf(request: z.output<typeof exportTraceRequestSchema>): CollectedSpan[] {
  return request.resourceSpans.flatMap(({ resource, scopeSpans }) => {
    const service = String(attributesOf(resource.attributes)['service.name'] ?? 'unknown');
    return scopeSpans.flatMap(({ spans }) => spans.map((span): CollectedSpan => ({
      traceId: span.traceId,
      spanId: span.spanId,
      parentSpanId: span.parentSpanId === '' ? undefined : span.parentSpanId,
      service,
      name: span.name,
      kind: kindNames[span.kind] ?? 'unspecified',
      startNs: BigInt(span.startTimeUnixNano),
      endNs: BigInt(span.endTimeUnixNano),
      attributes: attributesOf(span.attributes),
      events: span.events.map((event) => ({ name: event.name, timeNs: BigInt(event.timeUnixNano), attributes: attributesOf(event.attributes) })),
      links: span.links.map((link) => ({ traceId: link.traceId, spanId: link.spanId })),
      status: statusNames[span.status.code] ?? 'unset',
      statusMessage: span.status.message,
    })));
  });
}
