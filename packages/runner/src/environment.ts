import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { localHost } from './ports.ts';
import { identityEnvironment, type StackKeys } from './service-keys.ts';
import { secretsFolder } from './var-modes.ts';
import { adminPortOf, adminTokenVariableOf, grpcPortOf, grpcUrlsVariableOf, portOf, serviceNames, specOf, urlsVariableOf, type ServiceName } from './services.ts';

export interface ServiceEnvironmentOptions {
  /** What the runner inherited; passed on, with `DATABASE_URL` replaced by the service's own. */
  env: NodeJS.ProcessEnv;
  portBase: number;
  varDir: string;
  /** The service's own admin token (`ADMIN_TOKEN`), for its `/admin/*` routes: no other service gets it. */
  adminToken: string;
  /** The service's own database (its role's password in it); unset until the database is provisioned. */
  databaseUrl?: string | undefined;
  /** This service's own variables, applied last. */
  overrides?: NodeJS.ProcessEnv | undefined;
  /** Every service's key pair: the service gets its own private key and its callers' public keys. */
  keys?: StackKeys | undefined;
}

/** `http://127.0.0.1:<port>`: where a service of a stack on `portBase` listens. */
export function serviceUrl(name: ServiceName, portBase: number): string {
  return `http://${localHost}:${portOf(name, portBase)}`;
}

/** `http://127.0.0.1:<admin port>`: where a service's `/metrics` and `/admin/*` routes are. */
export function serviceAdminUrl(name: ServiceName, portBase: number): string {
  return `http://${localHost}:${adminPortOf(name, portBase)}`;
}

/** `http://127.0.0.1:<grpc port>`: where a service's gRPC listener is, when it has one. */
export function serviceGrpcUrl(name: ServiceName, portBase: number): string | undefined {
  const port = grpcPortOf(name, portBase);
  return port === undefined ? undefined : `http://${localHost}:${port}`;
}

/**
 * Where Node keeps compiled code for the services when the runner's environment names no folder:
 * inside this checkout, so it belongs to whoever owns the checkout. Not Node's default in the
 * system's temporary folder: whoever creates that folder first controls the code every later
 * user runs from it (the cache is checked only by a checksum), root's `npm start` included.
 */
export const defaultCompileCacheDir = fileURLToPath(new URL('../../../node_modules/.cache/node-compile/', import.meta.url));

/**
 * The young generation (`--max-semi-space-size`, MB) a service starts with unless its spec's
 * `memory` says otherwise, ahead of the runner's own NODE_OPTIONS (a flag given again there
 * wins). By default V8 lets a process's young generation grow to about 100 MB under
 * load, and keeps the pages it frees until the process has been idle a while. At 8 MB a
 * semi-space the whole shop held 300-360 MB less after a minute of checkouts and about 100 MB
 * less idle; checkout throughput, measured side by side with the default, did not drop.
 */
const defaultSemiSpaceMb = 8;

/** Its V8 flags and glibc's arenas, from its spec's `memory` (services.ts), else the default. */
export function memoryEnvironment(name: ServiceName): NodeJS.ProcessEnv {
  const { semiSpaceMb = defaultSemiSpaceMb, mallocArenas } = specOf(name).memory ?? {};
  return { NODE_OPTIONS: `--max-semi-space-size=${semiSpaceMb}`, ...(mallocArenas === undefined ? {} : { MALLOC_ARENA_MAX: String(mallocArenas) }) };
}

/**
 * The environment one service is started with: the runner's own (so LOG_LEVEL, FAULTS and the
 * like reach every service), then where it listens (`PORT`, `ADMIN_PORT`, and `GRPC_PORT` for a
 * gRPC service), its own admin token, its own `DATABASE_URL` (a stateless service, the gateway, gets none), its folders
 * and the address of every service it calls (`<NAME>_URLS`, and `<NAME>_GRPC_URLS` for a gRPC
 * one), its workload identity (`SERVICE_KEY`, `SERVICE_TRUST`: see service-keys.ts), then its overrides.
 *
 * An inherited `DATABASE_URL` is never passed on: the same URL in several services would make
 * them share one database, which a service must never do. Nor is an inherited admin token
 * (`ADMIN_TOKEN`, `ADMIN_TOKEN_FILE`, any service's `<NAME>_ADMIN_TOKEN`): each service gets its
 * own (`adminToken`), on its admin listener (`ADMIN_HOST`, `ADMIN_PORT`), so one service's
 * token opens no other's admin routes.
 *
 * Node's compile cache is on (`NODE_COMPILE_CACHE`; `NODE_DISABLE_COMPILE_CACHE=1` turns it off).
 * It keeps each TypeScript file with its types already stripped, so a service started again
 * never loads Node's type stripper, a WebAssembly module that holds 15-20 MB of RSS in every
 * process for as long as it runs, and compiles less (users: ~1.05 s to ready → ~0.75 s). Entries
 * are checked against the source and written through a temporary file, so stacks and worktrees
 * can share the folder. A service writes its entries when it exits, so the first start fills
 * the cache and the next ones use it.
 */
export function serviceEnvironment(name: ServiceName, { env, portBase, varDir, adminToken, databaseUrl, overrides = {}, keys }: ServiceEnvironmentOptions): NodeJS.ProcessEnv {
  const { DATABASE_URL: _shared, ADMIN_TOKEN: _sharedToken, ADMIN_TOKEN_FILE: _sharedTokenFile, ...rest } = env;
  const inherited = Object.fromEntries(Object.entries(rest).filter(([variable]) => !serviceNames.some((other) => adminTokenVariableOf(other) === variable)));
  const upstreams = Object.fromEntries(specOf(name).calls.flatMap((called) => {
    const grpcUrl = serviceGrpcUrl(called, portBase);
    return [[urlsVariableOf(called), serviceUrl(called, portBase)], ...(grpcUrl === undefined ? [] : [[grpcUrlsVariableOf(called), grpcUrl]])];
  }));
  const addresses = Object.fromEntries(Object.entries(specOf(name).addresses ?? {}).map(([variable, { of, path = '' }]) => [variable, `${serviceUrl(of as ServiceName, portBase)}${path}`]));
  const grpcPort = grpcPortOf(name, portBase);
  const memory = memoryEnvironment(name);
  return {
    NODE_COMPILE_CACHE: defaultCompileCacheDir,
    ...memory,
    ...inherited,
    NODE_OPTIONS: [memory.NODE_OPTIONS, inherited.NODE_OPTIONS].filter((options) => options !== undefined && options !== '').join(' '),
    // Set because some shells export the machine's name in HOST, and every URL says 127.0.0.1.
    HOST: localHost,
    PORT: String(portOf(name, portBase)),
    ADMIN_HOST: localHost,
    ADMIN_PORT: String(adminPortOf(name, portBase)),
    // A token file of the service's own (its overrides) wins: a service never gets both.
    ...(overrides.ADMIN_TOKEN_FILE === undefined ? { ADMIN_TOKEN: adminToken } : {}),
    ...(grpcPort === undefined ? {} : { GRPC_PORT: String(grpcPort) }),
    ...(databaseUrl === undefined ? {} : { DATABASE_URL: databaseUrl }),
    ...Object.fromEntries(Object.keys(specOf(name).folders ?? {}).map((variable) => [variable, folderOf(name, variable, varDir)])),
    ...developmentSecrets(name, { ...inherited, ...overrides }, varDir),
    ...upstreams,
    ...addresses,
    // A service outside the shop is given no identity of the shop's.
    ...(keys === undefined || specOf(name).outside === true ? {} : identityEnvironment(name, keys)),
    ...overrides,
  };
}

/** The development secrets a service is pointed at (see `secrets` in services.ts), unless the environment brings its own. */
export function developmentSecrets(name: ServiceName, inherited: NodeJS.ProcessEnv, varDir: string): Record<string, string> {
  const own = (variable: string) => [variable, variable.replace(/_FILE$/, '')].some((v) => inherited[v] !== undefined && inherited[v] !== '');
  return Object.fromEntries(Object.entries(specOf(name).secrets ?? {})
    .filter(([variable]) => !own(variable))
    .map(([variable, file]) => [variable, join(varDir, secretsFolder, file)]));
}

/** Where a service's folder variable (`MAIL_DIR` of notifications) points under the var folder; undefined when it has no such folder. */
export function folderOf(name: ServiceName, variable: string, varDir: string): string | undefined {
  const folder = specOf(name).folders?.[variable];
  return folder === undefined ? undefined : join(varDir, folder);
}
