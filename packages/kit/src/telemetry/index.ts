export { createLogger, redactedPaths, type Logger, type LoggerOptions } from './logger.ts';
export { createMetrics, durationBucketsSeconds, type Metrics, type HttpServerMetrics, type RpcServerMetrics, type ServerProtectionMetrics } from './metrics.ts';
export { createClientMetrics } from './client-metrics.ts';
