import { resolve } from 'node:path';
import type { LogFormat } from './log-format.ts';
import { adminPortOffset, isServiceName, lastSlot, needsOf, serviceNames, type ServiceName } from './services.ts';
import { repoRoot } from './stack.ts';

/** What `npm start` reads from its environment, once, at start. */
export interface CliConfig {
  /** `BATON_PORT_BASE`: the gateway's port; the other services follow (default 8080). */
  portBase: number;
  /** `BATON_VAR_DIR`: where the services keep their data, one folder each (default `<repo>/var`). */
  varDir: string;
  /** `BATON_LOG_FORMAT`: `pretty` or `json` (default `pretty` on a terminal, `json` otherwise). */
  logFormat: LogFormat;
  /** `BATON_DATABASE_URL`: a PostgreSQL server of your own (a superuser URL) instead of the embedded one. */
  databaseUrl: string | undefined;
  /** `BATON_DATABASE_PREFIX`: put before each service's name to name its database and role (`baton_`). */
  databasePrefix: string;
  /** The services named on the command line (`npm start -- orders`) and every service they call; all by default. */
  services: ServiceName[];
  /** The services named on the command line alone (none: all). */
  named: ServiceName[];
}

export type CliConfigResult = { ok: true; config: CliConfig } | { ok: false; problems: string[] };

/**
 * Reads the runner's variables and reports every bad one at once, like the services' config.
 *
 * @example
 * const result = readCliConfig(process.env, { stdoutIsTty: process.stdout.isTTY === true });
 */
export function readCliConfig(env: NodeJS.ProcessEnv, { stdoutIsTty, args = [] }: { stdoutIsTty: boolean; args?: readonly string[] }): CliConfigResult {
  const problems: string[] = [];
  const unknown = args.filter((arg) => !isServiceName(arg));
  if (unknown.length > 0) problems.push(`unknown service ${unknown.join(', ')}: expected some of ${serviceNames.join(', ')}`);
  const named = args.filter(isServiceName);
  const services = named.length === 0 ? [...serviceNames] : withWhatTheyCall(named);
  const maxPortBase = 65_535 - adminPortOffset - lastSlot;

  let portBase = 8080;
  const rawPortBase = env.BATON_PORT_BASE;
  if (rawPortBase !== undefined && rawPortBase !== '') {
    portBase = Number(rawPortBase);
    if (!/^\d+$/.test(rawPortBase) || portBase < 1 || portBase > maxPortBase) {
      problems.push(`BATON_PORT_BASE: expected a port number from 1 to ${maxPortBase}`);
    }
  }

  const rawVarDir = env.BATON_VAR_DIR;
  const varDir = rawVarDir === undefined || rawVarDir === '' ? resolve(repoRoot, 'var') : resolve(rawVarDir);

  let logFormat: LogFormat = stdoutIsTty ? 'pretty' : 'json';
  const rawFormat = env.BATON_LOG_FORMAT;
  if (rawFormat === 'json' || rawFormat === 'pretty') logFormat = rawFormat;
  else if (rawFormat !== undefined && rawFormat !== '') problems.push('BATON_LOG_FORMAT: expected json or pretty');

  let databaseUrl: string | undefined;
  const rawDatabaseUrl = env.BATON_DATABASE_URL;
  if (rawDatabaseUrl !== undefined && rawDatabaseUrl !== '') {
    if (/^postgres(ql)?:\/\/./.test(rawDatabaseUrl) && URL.canParse(rawDatabaseUrl)) databaseUrl = rawDatabaseUrl;
    // The value itself is never repeated: it may hold a password.
    else problems.push('BATON_DATABASE_URL: expected a postgres:// URL of a superuser, e.g. postgres://postgres@127.0.0.1:5432/postgres');
  }

  let databasePrefix = 'baton_';
  const rawPrefix = env.BATON_DATABASE_PREFIX;
  if (rawPrefix !== undefined && rawPrefix !== '') {
    if (/^[a-z_][a-z0-9_]{0,40}$/.test(rawPrefix)) databasePrefix = rawPrefix;
    else problems.push('BATON_DATABASE_PREFIX: expected lower-case letters, digits and _, starting with a letter or _ (at most 41)');
  }

  return problems.length > 0 ? { ok: false, problems } : { ok: true, config: { portBase, varDir, logFormat, databaseUrl, databasePrefix, services, named } };
}

/** The services named, and every service they call, directly or not: what they need to work. */
function withWhatTheyCall(named: readonly ServiceName[]): ServiceName[] {
  const wanted = new Set<ServiceName>();
  const add = (name: ServiceName) => {
    if (wanted.has(name)) return;
    wanted.add(name);
    needsOf(name).forEach(add);
  };
  named.forEach(add);
  return serviceNames.filter((name) => wanted.has(name));
}
