import { join } from 'node:path';
import { startConsole, type Console } from '@baton/console';
import { runnerLogLine, type LogLine } from './log-line.ts';
import { localHost } from './ports.ts';

/** Where the console listens: ten above the port base (8090 by default), clear of the services. */
export const consolePortOffset = 10;

export interface LocalConsole {
  /** The environment for the services: the runner's, pointing their spans at the console. */
  env: NodeJS.ProcessEnv;
  /** The console's page, or undefined when its port was taken. */
  consoleUrl: string | undefined;
  /** `<console>/traces`, or undefined when spans go elsewhere (or there is no console). */
  tracesUrl: string | undefined;
  /** The console itself, to hand it every log line and the stack once made. */
  console: Console | undefined;
  close(): Promise<void>;
}

/**
 * Starts the console the two commands promise (@baton/console): the services, their logs, the map
 * of their calls, traces and fault switches, live, in the runner's own process. It receives every
 * service's spans too (an OTLP receiver), unless the user already sends them somewhere
 * (`OTEL_EXPORTER_OTLP_ENDPOINT` is set) or turned tracing off; then its trace view is empty and
 * the rest works. A taken port is reported and the shop starts without it.
 */
export async function startLocalConsole({ env, portBase, varDir, onLog }: {
  env: NodeJS.ProcessEnv; portBase: number; varDir: string; onLog: (line: LogLine) => void;
}): Promise<LocalConsole> {
  try {
    // `npm run chaos` writes its reports under the same var/ (BATON_VAR_DIR), and the console links them.
    const shown = await startConsole({ host: localHost, port: portBase + consolePortOffset, entryService: 'gateway', chaosReports: join(varDir, 'chaos') });
    const ownTraces = env.OTEL_EXPORTER_OTLP_ENDPOINT === undefined && env.OTEL_SDK_DISABLED !== 'true';
    return {
      // Sent often: a developer who just placed an order wants to see its trace now.
      env: ownTraces ? { ...env, OTEL_EXPORTER_OTLP_ENDPOINT: shown.url, OTEL_BSP_SCHEDULE_DELAY: env.OTEL_BSP_SCHEDULE_DELAY ?? '200' } : env,
      consoleUrl: `${shown.url}/`,
      tracesUrl: ownTraces ? `${shown.url}/traces` : undefined,
      console: shown,
      close: () => shown.close(),
    };
  } catch (error) {
    onLog(runnerLogLine('warn', `no console: port ${portBase + consolePortOffset} is taken (${(error as Error).message})`, { event: 'console_unavailable' }));
    return { env, consoleUrl: undefined, tracesUrl: undefined, console: undefined, close: async () => {} };
  }
}
