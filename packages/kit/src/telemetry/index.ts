export { createLogger, redactedPaths, type Logger, type LoggerOptions } from './logger.ts';
export { createMetrics, durationBucketsSeconds, type Metrics, type HttpServerMetrics, type RpcServerMetrics, type ServerProtectionMetrics } from './metrics.ts';
export { createClientMetrics } from './client-metrics.ts';
export { createTracing, installTraceContext, samplerNames, type SamplerName, type Tracing, type TracingOptions } from './tracing/tracing.ts';
export { traceLogFields } from './tracing/log-correlation.ts';
export { createResourceMetrics } from './resource-metrics.ts';
