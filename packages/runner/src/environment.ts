import { join } from 'node:path';
import { localHost } from './ports.ts';
import { grpcPortOf, grpcUrlsVariableOf, portOf, specOf, urlsVariableOf, type ServiceName } from './services.ts';

export interface ServiceEnvironmentOptions {
  /** What the runner inherited; passed on, with `DATABASE_URL` replaced by the service's own. */
  env: NodeJS.ProcessEnv;
  portBase: number;
  varDir: string;
  /** The service's own database (its role's password in it); unset until the database is provisioned. */
  databaseUrl?: string | undefined;
  /** This service's own variables, applied last. */
  overrides?: NodeJS.ProcessEnv | undefined;
}

/** `http://127.0.0.1:<port>`: where a service of a stack on `portBase` listens. */
export function serviceUrl(name: ServiceName, portBase: number): string {
  return `http://${localHost}:${portOf(name, portBase)}`;
}

/** `http://127.0.0.1:<grpc port>`: where a service's gRPC listener is, when it has one. */
export function serviceGrpcUrl(name: ServiceName, portBase: number): string | undefined {
  const port = grpcPortOf(name, portBase);
  return port === undefined ? undefined : `http://${localHost}:${port}`;
}

/**
 * The environment one service is started with: the runner's own (so LOG_LEVEL, FAULTS and the
 * like reach every service), then where it listens (`PORT`, and `GRPC_PORT` for a gRPC
 * service), its own `DATABASE_URL`, its folders and the address of every service it calls
 * (`<NAME>_URLS`, and `<NAME>_GRPC_URLS` for a gRPC one), then its overrides.
 *
 * An inherited `DATABASE_URL` is never passed on: the same URL in five services would make them
 * share one database, which a service must never do.
 */
export function serviceEnvironment(name: ServiceName, { env, portBase, varDir, databaseUrl, overrides = {} }: ServiceEnvironmentOptions): NodeJS.ProcessEnv {
  const { DATABASE_URL: _shared, ...inherited } = env;
  const upstreams = Object.fromEntries(specOf(name).calls.flatMap((called) => {
    const grpcUrl = serviceGrpcUrl(called, portBase);
    return [[urlsVariableOf(called), serviceUrl(called, portBase)], ...(grpcUrl === undefined ? [] : [[grpcUrlsVariableOf(called), grpcUrl]])];
  }));
  const grpcPort = grpcPortOf(name, portBase);
  return {
    ...inherited,
    // Set because some shells export the machine's name in HOST, and every URL says 127.0.0.1.
    HOST: localHost,
    PORT: String(portOf(name, portBase)),
    ...(grpcPort === undefined ? {} : { GRPC_PORT: String(grpcPort) }),
    ...(databaseUrl === undefined ? {} : { DATABASE_URL: databaseUrl }),
    ...Object.fromEntries(Object.entries(specOf(name).folders ?? {}).map(([variable, folder]) => [variable, join(varDir, folder)])),
    ...upstreams,
    ...overrides,
  };
}
