import { startTraceCollector } from '@baton/kit/telemetry/collector';
import { runnerLogLine, type LogLine } from './log-line.ts';
import { localHost } from './ports.ts';

/** Where the trace view listens: ten above the port base (8090 by default), clear of the services. */
export const traceViewPortOffset = 10;

export interface LocalTraceView {
  /** The environment for the services: the runner's, pointing their spans at the view. */
  env: NodeJS.ProcessEnv;
  /** `<view>/traces`, or undefined when spans go elsewhere (or the port was taken). */
  tracesUrl: string | undefined;
  close(): Promise<void>;
}

/**
 * Starts the trace view the two commands promise: an OTLP receiver in the runner's own process
 * that every service sends its spans to, and a JSON API that reads a trace as a waterfall. Left
 * out when the user already sends spans somewhere (`OTEL_EXPORTER_OTLP_ENDPOINT` is set) or
 * turned tracing off; a taken port is reported and the shop starts without it.
 */
export async function startLocalTraceView({ env, portBase, onLog }: {
  env: NodeJS.ProcessEnv; portBase: number; onLog: (line: LogLine) => void;
}): Promise<LocalTraceView> {
  const none = { env, tracesUrl: undefined, close: async () => {} };
  if (env.OTEL_EXPORTER_OTLP_ENDPOINT !== undefined || env.OTEL_SDK_DISABLED === 'true') return none;
  try {
    const collector = await startTraceCollector({ host: localHost, port: portBase + traceViewPortOffset });
    return {
      // Sent often: a developer who just placed an order wants to see its trace now.
      env: { ...env, OTEL_EXPORTER_OTLP_ENDPOINT: collector.url, OTEL_BSP_SCHEDULE_DELAY: env.OTEL_BSP_SCHEDULE_DELAY ?? '200' },
      tracesUrl: `${collector.url}/traces`,
      close: () => collector.close(),
    };
  } catch (error) {
    onLog(runnerLogLine('warn', `no trace view: port ${portBase + traceViewPortOffset} is taken (${(error as Error).message})`, { event: 'traces_unavailable' }));
    return none;
  }
}
