export { createLogger, type Logger, type LoggerOptions } from './logger.ts';
export { createLogSink, type LogSink } from './log-sink.ts';
export { createMetrics, durationBucketsSeconds, type Metrics } from './metrics.ts';
export { readAtScrape, scrapeReadTimeoutMs } from './scrape-read.ts';
export type { Tracing } from './tracing/tracing.ts';
