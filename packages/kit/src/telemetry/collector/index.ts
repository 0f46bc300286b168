export { startTraceCollector, type TraceCollector, type TraceCollectorOptions } from './trace-collector.ts';
export { createTraceStore, type TraceStore, type TraceSummary, type Waterfall, type WaterfallSpan } from './trace-store.ts';
export { exportTraceRequestSchema, spansOf, type CollectedSpan } from './otlp-json.ts';
