// How a profiling tool's shop traces, chosen by an environment variable: `no exporter` (the
// services' default: context flows, nothing is recorded), `off`, or `exported` (every span, 100%
// sampling, sent over OTLP/HTTP JSON to a kit collector in a process of its own, as tracing-cost's
// 100% variant does). Set beside each other, they show where a recorded trace's CPU goes.
import { startCollectorProcess, type CollectorProcess } from '../harness/trace-collector-process.ts';

export const tracingChoices = ['no exporter', 'off', 'exported'] as const;
export type TracingChoice = (typeof tracingChoices)[number];

export interface ChosenTracing {
  choice: TracingChoice;
  /** The services' environment for it. */
  env: NodeJS.ProcessEnv;
  /** Stops the collector, if one was started; says how many spans it received. */
  stop(): Promise<string>;
}

export async function chooseTracing(value: string | undefined): Promise<ChosenTracing> {
  const choice = (value ?? 'no exporter') as TracingChoice;
  if (!tracingChoices.includes(choice)) throw new Error(`tracing is one of ${tracingChoices.join(', ')}, not "${value}"`);
  if (choice === 'off') return { choice, env: { OTEL_SDK_DISABLED: 'true' }, stop: async () => '' };
  if (choice === 'no exporter') return { choice, env: {}, stop: async () => '' };
  const collector: CollectorProcess = await startCollectorProcess();
  return {
    choice,
    env: { OTEL_EXPORTER_OTLP_ENDPOINT: collector.url, OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '1' },
    stop: async () => `${await collector.stop()} spans received`,
  };
}
