import { createWriteStream } from 'node:fs';
import { startStackOnFreePorts, type LogLine, type ServiceName, type Stack } from '@baton/runner';

export interface ChaosShop {
  stack: Stack;
  /** Resolves once every service answers `/readyz` again: between scenarios, so each starts from a whole shop. */
  whole(timeoutMs: number): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The whole shop as `npm start` runs it (every service its own process, the embedded PostgreSQL
 * under `varDir`, or `BATON_DATABASE_URL`'s server), on ports of its own so it never meets a
 * stack already running. Its services' warnings and errors, and the runner's lines, go to
 * `logFile`, for reading a failed verdict after.
 */
export async function startChaosShop({ varDir, logFile, env, serviceEnv = {} }: {
  varDir: string; logFile: string; env: NodeJS.ProcessEnv; serviceEnv?: Partial<Record<ServiceName, NodeJS.ProcessEnv>>;
}): Promise<ChaosShop> {
  const log = createWriteStream(logFile, { flags: 'a', mode: 0o600 });
  // The services log at warn and above (LOG_LEVEL below); the runner's own lines say what it restarted.
  const onLog = (line: LogLine) => void log.write(`${line.service} ${line.text}\n`);
  const databaseUrl = env.BATON_DATABASE_URL === undefined || env.BATON_DATABASE_URL === '' ? undefined : env.BATON_DATABASE_URL;
  let running: Stack;
  try {
    running = await startStackOnFreePorts({
      varDir, onLog, startTimeoutMs: 120_000, serviceEnv,
      env: { ...env, LOG_LEVEL: 'warn' },
      ...(databaseUrl === undefined ? {} : { databaseUrl, databasePrefix: `chaos_${Date.now().toString(36)}_` }),
    });
  } catch (error) {
    log.end();
    throw error;
  }
  return {
    stack: running,
    async whole(timeoutMs) {
      await Promise.all(running.services.map((name) => running.waitReady(name, { timeoutMs })));
    },
    async stop() {
      await running.shutdown();
      await new Promise<void>((resolve) => log.end(resolve));
    },
  };
}
