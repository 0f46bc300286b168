import type { SpanProcessor } from '@opentelemetry/sdk-trace';
import type { ServiceConfig } from '../config/index.ts';
import { createLogger, createMetrics, type Logger, type Metrics, type Tracing } from '../telemetry/index.ts';
import { createTracing } from '../telemetry/tracing/tracing.ts';

export interface ServiceTelemetry {
  logger: Logger;
  metrics: Metrics;
  tracing: Tracing;
}

/** The service's logger, metrics and tracing, first of all, so that every later step is seen. */
export function createServiceTelemetry(
  service: string,
  config: ServiceConfig,
  { logger, spanProcessors = [] }: { logger?: Logger | undefined; spanProcessors?: SpanProcessor[] | undefined },
): ServiceTelemetry {
  return {
    logger: logger ?? createLogger({ service, level: config.LOG_LEVEL }),
    metrics: createMetrics(),
    tracing: createTracing({
      service,
      enabled: !config.OTEL_SDK_DISABLED,
      otlpEndpoint: config.OTEL_EXPORTER_OTLP_ENDPOINT,
      otlpProtocol: config.OTEL_EXPORTER_OTLP_PROTOCOL,
      sampler: config.OTEL_TRACES_SAMPLER,
      samplerRatio: config.OTEL_TRACES_SAMPLER_ARG,
      exportDelayMs: config.OTEL_BSP_SCHEDULE_DELAY,
      spanProcessors,
    }),
  };
}
