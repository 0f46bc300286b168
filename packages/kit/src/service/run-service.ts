import type { DatabaseConfig, ServiceConfig } from '../config/index.ts';
import { adminSettingsOf } from '../config/admin-settings.ts';
import { ConfigError } from '../config/index.ts';
import type { Database } from '../db/index.ts';
import { createLogger } from '../telemetry/index.ts';
import type { AnyServiceDefinition, ServiceDefinition, StatelessServiceDefinition } from './definition.ts';
import { startAnyService, type RunningService } from './start-service.ts';

/** Exit status for a configuration error (sysexits' EX_CONFIG), so a supervisor can tell it apart. */
export const exitCodeConfig = 78;

/** How long a service whose supervisor is gone may take to stop before it exits anyway. */
const orphanExitMs = 4_000;

/**
 * A supervisor that starts this process with an IPC channel (Baton's runner does) is gone when
 * the channel closes, however it went, SIGKILL included. Nobody will then read this process's
 * logs, restart it or stop it, and it would hold its port: it stops, within `orphanExitMs`
 * even with requests in flight. Without a channel (started by hand, by Kubernetes) nothing is
 * watched.
 */
function watchSupervisor(onGone: () => void): void {
  if (process.channel === undefined) return;
  // The channel would otherwise keep the process alive after a graceful shutdown.
  process.channel.unref();
  process.once('disconnect', () => {
    setTimeout(() => process.exit(1), orphanExitMs).unref();
    onGone();
  });
}

/**
 * The whole life of a service process: read config once (exit 78 naming every bad variable),
 * start, then shut down gracefully on SIGTERM or SIGINT (exit 0 when clean). A second signal
 * exits at once. A crash outside a request is logged and shuts the process down with exit 1,
 * so the supervisor restarts it in a known state.
 */
export function runService<C extends ServiceConfig & DatabaseConfig>(definition: ServiceDefinition<C>, readConfig: () => C): Promise<RunningService | undefined>;
export function runService<C extends ServiceConfig>(definition: StatelessServiceDefinition<C>, readConfig: () => C): Promise<RunningService<undefined> | undefined>;
export async function runService(definition: AnyServiceDefinition, readConfig: () => ServiceConfig & Partial<DatabaseConfig>): Promise<RunningService<Database | undefined> | undefined> {
  let config: ServiceConfig & Partial<DatabaseConfig>;
  try {
    config = readConfig();
    // What depends on several variables (the admin token given twice, say) is a config error too.
    adminSettingsOf(config);
  } catch (error) {
    const logger = createLogger({ service: definition.name });
    if (error instanceof ConfigError) {
      logger.fatal({ problems: error.problems }, `invalid configuration: ${error.problems.map((p) => p.variable).join(', ')}`);
    } else {
      logger.fatal({ err: error }, 'could not read configuration');
    }
    process.exitCode = exitCodeConfig;
    return undefined;
  }

  // Signals are listened for before starting, so one that arrives during migrations waits for
  // them to finish (a half-applied schema is worse than a slower stop) and then stops cleanly.
  // The same signal repeated within a second is one keypress delivered twice (a terminal's
  // Ctrl-C reaches both npm and the service, and npm forwards it); only a later one means
  // "exit now".
  const repeatWindowMs = 1_000;
  let firstSignalAt: number | undefined;
  let service: RunningService<Database | undefined> | undefined;
  let stopRequested: string | undefined;
  const startLogger = createLogger({ service: definition.name, level: config.LOG_LEVEL });
  const stop = async (reason: string, exitCode: number) => {
    if (service === undefined) {
      stopRequested = reason;
      return;
    }
    const { clean } = await service.shutdown(reason);
    process.exit(clean ? exitCode : 1);
  };
  const onSignal = (signal: NodeJS.Signals) => {
    const now = performance.now();
    if (firstSignalAt !== undefined) {
      if (now - firstSignalAt < repeatWindowMs) return;
      (service?.logger ?? startLogger).warn({ signal }, 'second signal: exiting now');
      process.exit(130);
    }
    firstSignalAt = now;
    void stop(signal, 0);
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  watchSupervisor(() => {
    (service?.logger ?? startLogger).warn('the runner that started this service is gone; shutting down');
    void stop('supervisor gone', 0);
  });

  try {
    service = await startAnyService(definition, config);
  } catch (error) {
    startLogger.fatal({ err: error }, 'could not start');
    process.exit(1);
  }
  const running = service;
  if (stopRequested !== undefined) await stop(stopRequested, 0);

  const onCrash = (error: unknown) => {
    running.logger.fatal({ err: error }, 'uncaught error outside a request; shutting down');
    void stop('crash', 1);
  };
  process.on('uncaughtException', onCrash);
  process.on('unhandledRejection', onCrash);
  return service;
}
