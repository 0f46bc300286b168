import { join } from 'node:path';
import { localHost } from './ports.ts';
import { portOf, specOf, urlsVariableOf, type ServiceName } from './services.ts';

export interface ServiceEnvironmentOptions {
  /** What the runner inherited; passed on, less `DATABASE_URL`. */
  env: NodeJS.ProcessEnv;
  portBase: number;
  varDir: string;
  /** This service's own variables, applied last. */
  overrides?: NodeJS.ProcessEnv | undefined;
}

/** `http://127.0.0.1:<port>`: where a service of a stack on `portBase` listens. */
export function serviceUrl(name: ServiceName, portBase: number): string {
  return `http://${localHost}:${portOf(name, portBase)}`;
}

/**
 * The environment one service is started with: the runner's own (so LOG_LEVEL, FAULTS and the
 * like reach every service), then where it listens, where its data lives and the address of
 * every service it calls, then its overrides.
 *
 * `DATABASE_URL` is dropped: the same URL in five services would make them share one database,
 * which a service must never do. Without it each one uses its embedded PGlite.
 */
export function serviceEnvironment(name: ServiceName, { env, portBase, varDir, overrides = {} }: ServiceEnvironmentOptions): NodeJS.ProcessEnv {
  const { DATABASE_URL: _shared, ...inherited } = env;
  const upstreams = Object.fromEntries(specOf(name).calls.map((called) => [urlsVariableOf(called), serviceUrl(called, portBase)]));
  return {
    ...inherited,
    // Set because some shells export the machine's name in HOST, and every URL says 127.0.0.1.
    HOST: localHost,
    PORT: String(portOf(name, portBase)),
    DATA_DIR: join(varDir, name),
    ...upstreams,
    ...overrides,
  };
}
