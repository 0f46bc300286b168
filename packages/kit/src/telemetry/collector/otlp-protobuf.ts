import { fromBinary } from '@bufbuild/protobuf';
import type { AnyValue, KeyValue } from '@baton/contracts/opentelemetry/common/v1';
import { ExportTraceServiceRequestSchema, type ExportTraceServiceRequest } from '@baton/contracts/opentelemetry/collector/trace/v1';
import { Code, KitError } from '../../errors/index.ts';
import { kindNames, statusNames, type AttributeValue, type CollectedSpan } from './otlp-json.ts';

/**
 * The OTLP/HTTP protobuf encoding of ExportTraceServiceRequest (`application/x-protobuf`), what
 * OpenTelemetry's SDKs send by default, read with the messages generated from OTLP's own .proto
 * files (contracts/proto/opentelemetry). Ids are bytes here, hex in a trace view.
 */
export function decodeTraceRequest(body: Uint8Array): ExportTraceServiceRequest {
  try {
    return fromBinary(ExportTraceServiceRequestSchema, body);
  } catch (error) {
    throw new KitError(Code.InvalidArgument, 'the body is not an OTLP ExportTraceServiceRequest in protobuf', { fields: [{ field: 'body', message: (error as Error).message }], cause: error });
  }
}

/** A span attribute's value; an array inside an array is refused, as the JSON encoding's schema does (`at` names it). */
function valueOf(value: AnyValue | undefined, at: string): AttributeValue {
  switch (value?.value.case) {
    case 'stringValue': case 'boolValue': case 'doubleValue': return value.value.value;
    case 'intValue': return Number(value.value.value);
    case 'arrayValue': return value.value.value.values.map((item, i) => {
      if (item.value.case === 'arrayValue') {
        throw new KitError(Code.InvalidArgument, 'the request is not valid', { fields: [{ field: `${at}.arrayValue.values.${i}.arrayValue`, message: 'an attribute is a primitive or an array of primitives, not an array of arrays' }] });
      }
      return valueOf(item, at) as string | number | boolean;
    });
    default: return '';
  }
}

function attributesOf(list: readonly KeyValue[], at: string): Record<string, AttributeValue> {
  const attributes: Record<string, AttributeValue> = {};
  list.forEach(({ key, value }, i) => {
    attributes[key] = valueOf(value, `${at}.${i}.value`);
  });
  return attributes;
}

// Every span brings two or three ids: a table of the 256 byte values in hex makes each a few
// string joins, where a Buffer view of the id and its toString cost more than the rest of the span.
const hexOfByte = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, '0'));

/** An id of `bytes` bytes as hex; anything else is an invalid request naming where it was. */
function hexId(id: Uint8Array, bytes: number, field: string): string {
  if (id.length !== bytes) throw new KitError(Code.InvalidArgument, 'the request is not valid', { fields: [{ field, message: `expected ${bytes} bytes` }] });
  let hex = '';
  for (const byte of id) hex += hexOfByte[byte] as string;
  return hex;
}

/** The spans of one export request, flattened, each with its service's name, as the JSON encoding's `spansOf` gives them. */
export function spansOfProtobuf(request: ExportTraceServiceRequest): CollectedSpan[] {
  const spans: CollectedSpan[] = [];
  request.resourceSpans.forEach(({ resource, scopeSpans }, r) => {
    const service = String(attributesOf(resource?.attributes ?? [], `resourceSpans.${r}.resource.attributes`)['service.name'] ?? 'unknown');
    scopeSpans.forEach(({ spans: scoped }, s) => {
      scoped.forEach((span, i) => {
        const at = `resourceSpans.${r}.scopeSpans.${s}.spans.${i}`;
        spans.push({
          traceId: hexId(span.traceId, 16, `${at}.traceId`),
          spanId: hexId(span.spanId, 8, `${at}.spanId`),
          parentSpanId: span.parentSpanId.length === 0 ? undefined : hexId(span.parentSpanId, 8, `${at}.parentSpanId`),
          service,
          name: span.name,
          kind: kindNames[span.kind] ?? 'unspecified',
          startNs: span.startTimeUnixNano,
          endNs: span.endTimeUnixNano,
          attributes: attributesOf(span.attributes, `${at}.attributes`),
          events: span.events.map((event, e) => ({ name: event.name, timeNs: event.timeUnixNano, attributes: attributesOf(event.attributes, `${at}.events.${e}.attributes`) })),
          links: span.links.map((link, l) => ({ traceId: hexId(link.traceId, 16, `${at}.links.${l}.traceId`), spanId: hexId(link.spanId, 8, `${at}.links.${l}.spanId`) })),
          status: statusNames[span.status?.code ?? 0] ?? 'unset',
          statusMessage: span.status?.message === '' ? undefined : span.status?.message,
        });
      });
    });
  });
  return spans;
}
