export { registerTraceCollector, startTraceCollector, type TraceCollector, type TraceCollectorOptions } from './trace-collector.ts';
export { createTraceStore, type TraceKind, type TraceSearch, type TraceStoreOptions } from './trace-store.ts';
export type { TraceStore, TraceSummary, Waterfall, WaterfallSpan } from './trace-store.ts';
export type { CollectedSpan } from './otlp-json.ts';
