// What a span costs to send and to receive in each OTLP/HTTP encoding (issue 18), in one process:
// CPU µs a span (user + system, process.cpuUsage) for the services' side, OpenTelemetry's own
// serializers (`JsonTraceSerializer`, `ProtobufTraceSerializer`, what the two exporters call),
// and for the kit collector's side (JSON: parse, check, flatten; protobuf: decode, flatten), and
// the bytes a span. The spans are made by the SDK as an upstream attempt's CLIENT span is, in
// batches of 512 (the batch processor's), OTLP_SPANS of them (default 10,240). Every measurement
// runs eleven times, the four interleaved, each after a garbage collection (so none pays for
// another's garbage), after one unmeasured round; each figure the median of the eleven.
//
//   node bench/profile/otlp-encoding.ts
import { JsonTraceSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { TracerProvider, type ReadableSpan } from '@opentelemetry/sdk-trace';
import { exportTraceRequestSchema, spansOf } from '../../packages/kit/src/telemetry/collector/otlp-json.ts';
import { decodeTraceRequest, spansOfProtobuf } from '../../packages/kit/src/telemetry/collector/otlp-protobuf.ts';
import { settle } from '../harness/settle.ts';

const count = Number(process.env.OTLP_SPANS ?? 10_240);
const finished: ReadableSpan[] = [];
const provider = new TracerProvider({
  resource: resourceFromAttributes({ 'service.name': 'orders' }),
  spanProcessors: [{ onStart: () => {}, onEnd: (span) => void finished.push(span), forceFlush: async () => {}, shutdown: async () => {} }],
});
const tracer = provider.getTracer('baton');
for (let i = 0; i < count; i++) {
  const span = tracer.startSpan('POST', { kind: 2, attributes: {
    'http.request.method': 'POST', 'server.address': '127.0.0.1', 'server.port': 20002, 'url.full': 'http://127.0.0.1:20002/v1/reservations',
    'baton.upstream': 'inventory', 'baton.deadline_ms': 4_980,
  } });
  span.setAttribute('http.response.status_code', 201);
  span.end();
}
const batches: ReadableSpan[][] = [];
for (let i = 0; i < finished.length; i += 512) batches.push(finished.slice(i, i + 512));
const json = batches.map((batch) => new TextDecoder().decode(JsonTraceSerializer.serializeRequest(batch)));
const protobuf = batches.map((batch) => ProtobufTraceSerializer.serializeRequest(batch) as Uint8Array);

const bytes = (all: ArrayLike<unknown>[] | string[]) => all.reduce((sum: number, item) => sum + (typeof item === 'string' ? Buffer.byteLength(item) : item.length), 0) / count;
const work = {
  'http/json encode': () => batches.forEach((batch) => JsonTraceSerializer.serializeRequest(batch)),
  'http/json read': () => json.forEach((body) => spansOf(exportTraceRequestSchema.parse(JSON.parse(body)))),
  'http/protobuf encode': () => batches.forEach((batch) => ProtobufTraceSerializer.serializeRequest(batch)),
  'http/protobuf read': () => protobuf.forEach((body) => spansOfProtobuf(decodeTraceRequest(body))),
};
type Work = keyof typeof work;
const usPerSpan = new Map<Work, number[]>(Object.keys(work).map((name) => [name as Work, []]));
for (let round = 0; round < 12; round++) {
  for (const [name, run] of Object.entries(work) as Array<[Work, () => void]>) {
    await settle(20);
    const before = process.cpuUsage();
    run();
    const used = process.cpuUsage(before);
    if (round > 0) usPerSpan.get(name)?.push((used.user + used.system) / count);
  }
}
const median = (name: Work) => (usPerSpan.get(name) ?? []).toSorted((a, b) => a - b)[5] as number;
const rows = [
  ['http/json', median('http/json encode'), median('http/json read'), bytes(json)],
  ['http/protobuf', median('http/protobuf encode'), median('http/protobuf read'), bytes(protobuf)],
] as const;
console.log(`${count} spans, in batches of 512, on Node ${process.version}`);
console.log('| encoding | service: encode, µs a span | kit collector: read, µs a span | bytes a span |\n|---|---|---|---|');
for (const [name, encode, read, size] of rows) console.log(`| ${name} | ${encode.toFixed(2)} | ${read.toFixed(2)} | ${size.toFixed(0)} |`);
