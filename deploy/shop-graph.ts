import { memoryEnvironment } from '../packages/runner/src/environment.ts';
import { grpcPortOf, hasDatabase, needsOf, portOf, serviceNames, specOf, type ServiceName } from '../packages/runner/src/services.ts';
import { adminPortOffset } from '@baton/kit/config';

/**
 * The shop as a deployment sees it, read from the runner's service list (packages/runner/src/
 * services.ts), the one place that says who calls whom: the images, the Kubernetes objects and
 * their NetworkPolicies are all made from this, so the policies allow exactly the calls the code
 * makes and a new call cannot be forgotten in one of them.
 */
export interface ServiceNode {
  name: ServiceName;
  /** The ports it listens on (the same in every pod: each pod has an address of its own). */
  httpPort: number;
  grpcPort: number | undefined;
  adminPort: number;
  /** The services it calls, told as `<NAME>_URLS` (media calls itself: it reads its own feed without a broker). */
  calls: ServiceName[];
  /** Those and the services it is told one address of (`PROVIDER_URL`): every service it reaches. */
  reaches: ServiceName[];
  /** The services that reach it. */
  callers: ServiceName[];
  database: boolean;
  /** Outside the shop (the payment provider): no service identity. */
  outside: boolean;
  /** Variables naming a folder of its own (`MAIL_DIR`). */
  folders: Record<string, string>;
  /** Variables naming a secret file (`TOKEN_KEY_ENCRYPTION_KEY_FILE` → `token-key-encryption-key`). */
  secrets: Record<string, string>;
  /** Single addresses it is told (`PROVIDER_URL`), with the path added. */
  addresses: Record<string, { of: ServiceName; path: string }>;
  grpcCalls: ServiceName[];
  /** `NODE_OPTIONS` and `MALLOC_ARENA_MAX` as its memory wants them (services.ts `memory`), as npm start sets them. */
  memoryEnv: NodeJS.ProcessEnv;
}

/** The ports `npm start` gives each service on the default base: a deployment keeps them. */
export const portBase = 8080;

export function serviceNode(name: ServiceName): ServiceNode {
  const spec = specOf(name);
  const calls = [...spec.calls] as ServiceName[];
  return {
    name,
    httpPort: portOf(name, portBase),
    grpcPort: grpcPortOf(name, portBase),
    adminPort: portOf(name, portBase) + adminPortOffset,
    calls,
    reaches: [...new Set(needsOf(name))],
    callers: serviceNames.filter((other) => needsOf(other).includes(name)),
    database: hasDatabase(name),
    outside: spec.outside === true,
    folders: { ...spec.folders },
    secrets: { ...spec.secrets },
    addresses: Object.fromEntries(Object.entries(spec.addresses ?? {}).map(([variable, { of, path = '' }]) => [variable, { of: of as ServiceName, path }])),
    grpcCalls: calls.filter((called) => specOf(called).grpc === true),
    memoryEnv: memoryEnvironment(name),
  };
}

export const shopGraph: readonly ServiceNode[] = serviceNames.map(serviceNode);

/** The @baton workspaces a service's code uses (its image holds them and nothing else of the repo). */
export const serviceWorkspaces = ['contracts', 'packages/kit'] as const;
