export { startTraceCollector, type TraceCollector, type TraceCollectorOptions } from './trace-collector.ts';
export type { TraceStore, TraceSummary, Waterfall, WaterfallSpan } from './trace-store.ts';
export type { CollectedSpan } from './otlp-json.ts';
