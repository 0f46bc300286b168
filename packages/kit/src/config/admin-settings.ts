import { ConfigError } from './load-config.ts';
import type { ServiceConfig } from './service-config.ts';

/**
 * How far above a service's port its admin listener is when `ADMIN_PORT` is unset: 8081 → 10081,
 * the same offset `npm start` uses (its gRPC ports are 1000 above, its admin ports 2000).
 */
export const adminPortOffset = 2_000;

/** Where a service's admin listener binds, and the token its `/admin/*` routes want. */
export interface AdminSettings {
  host: string;
  port: number;
  /** Unset: no token was configured, and every `/admin/*` route refuses every request. */
  token: string | undefined;
}

/**
 * The admin listener's settings, from the variables that name them: `ADMIN_HOST`, `ADMIN_PORT`
 * (else `PORT` + {@link adminPortOffset}, or a free port when `PORT` is 0, as tests run), and
 * `ADMIN_TOKEN` or `ADMIN_TOKEN_FILE`. Throws a ConfigError naming the variables when both
 * tokens are set (which one was meant cannot be known) or the derived port is past 65535.
 */
export function adminSettingsOf(config: ServiceConfig): AdminSettings {
  const problems = [];
  if (config.ADMIN_TOKEN !== undefined && config.ADMIN_TOKEN_FILE !== undefined) {
    problems.push({ variable: 'ADMIN_TOKEN_FILE', problem: 'set ADMIN_TOKEN or ADMIN_TOKEN_FILE, not both' });
  }
  const port = config.ADMIN_PORT ?? (config.PORT === 0 ? 0 : config.PORT + adminPortOffset);
  if (port > 65_535) problems.push({ variable: 'ADMIN_PORT', problem: `expected a TCP port number: PORT + ${adminPortOffset} is past 65535, so set ADMIN_PORT` });
  if (problems.length > 0) throw new ConfigError(problems);
  return { host: config.ADMIN_HOST, port, token: config.ADMIN_TOKEN ?? config.ADMIN_TOKEN_FILE };
}
