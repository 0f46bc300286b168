import { adminPortOffset } from '@baton/kit/config';

/**
 * The services the runner starts, in port order: the first listens on the port base (8080),
 * the next on base + 1, and so on. Adding a service is one entry here; append it, so the
 * ports of the others do not move. A service's folder, its name in logs and the prefix of
 * the variable that tells others where it is (`USERS_URLS`) all come from `name`.
 */
export const serviceSpecs = [
  // It verifies tokens and forwards: it keeps no data, so it gets no database. As it starts it
  // asks users for revoked tokens; the others it calls only when a request comes.
  { name: 'gateway', calls: ['users', 'inventory', 'orders', 'notifications', 'media'], waitsFor: ['users'], entry: true, stateless: true },
  // Its token signing keys are encrypted at rest with a key of var/secrets/ under `npm start`.
  { name: 'users', calls: [], grpc: true, secrets: { TOKEN_KEY_ENCRYPTION_KEY_FILE: 'token-key-encryption-key' } },
  // It checks staff's tokens itself (keys and revocations from users).
  { name: 'inventory', calls: ['users'], grpc: true },
  // Checkout with payment calls payment (over HTTP, or gRPC with UPSTREAM_PROTOCOL=grpc: it is
  // given both addresses); it starts once payment is ready.
  { name: 'orders', calls: ['users', 'inventory', 'payment'] },
  // Without a broker it reads the event feeds of users, orders and payment; users also verifies its tokens.
  // Its emails, as .eml files, go beside the services' data: var/mail/ under `npm start`.
  { name: 'notifications', calls: ['users', 'orders', 'payment'], folders: { MAIL_DIR: 'mail' } },
  // It calls the payment provider, outside the shop, with the provider's secret key; the
  // provider signs its webhooks with the other secret. Both are development secrets here.
  {
    name: 'payment', calls: [], grpc: true, addresses: { PROVIDER_URL: { of: 'provider' } },
    secrets: { PROVIDER_SECRET_KEY_FILE: 'provider-secret-key', PROVIDER_WEBHOOK_SECRET_FILE: 'provider-webhook-secret' },
  },
  // Product images, on 8086 (its slot was kept for it). It asks inventory whether a product
  // exists when an image comes, and tells it of each image once ready; without a broker its
  // workers read its own feed.
  // The bytes go beside the services' data: var/media/ under `npm start`.
  // Its memory is tuned for streams of 64 KB chunks and for libvips (see `memory`).
  {
    name: 'media', calls: ['users', 'inventory', 'media'], waitsFor: ['users'], slot: 6, folders: { MEDIA_DIR: 'media' },
    memory: { semiSpaceMb: 1, mallocArenas: 2 },
  },
  // Stands in for Stripe: outside the shop (no service identity), on 8087 (8086 is media's).
  {
    name: 'provider', calls: [], outside: true, slot: 7, addresses: { WEBHOOK_URL: { of: 'payment', path: '/webhooks/provider' } },
    secrets: { SECRET_KEY_FILE: 'provider-secret-key', WEBHOOK_SECRET_FILE: 'provider-webhook-secret' },
  },
] as const satisfies readonly ServiceSpec[];

export interface ServiceSpec {
  name: string;
  /** The services it needs the address of; each becomes a `<NAME>_URLS` variable. */
  calls: readonly string[];
  /**
   * The services it contacts as it starts (token revocations, event feeds), which must be ready
   * before it is started; by default every one it calls. One it calls only when a request comes
   * need not be waited for: the stack is ready only once every service is.
   */
  waitsFor?: readonly string[];
  /** The public entry: listed first and named in the "Baton is ready" line. */
  entry?: boolean;
  /**
   * It serves gRPC too, on `GRPC_PORT`: its place in the list plus `grpcPortOffset` above the
   * base (9081 for users), and its callers get `<NAME>_GRPC_URLS`.
   */
  grpc?: boolean;
  /** Variables naming folders of its own under the runner's var dir (`MAIL_DIR` → `<var>/mail`). */
  folders?: Readonly<Record<string, string>>;
  /**
   * Variables naming a development secret the runner makes (`<var>/secrets/<file>`, 32 random
   * bytes, 0600), when the runner's own environment sets neither it nor the variable without
   * `_FILE` (a secret of the operator's own wins).
   */
  secrets?: Readonly<Record<string, string>>;
  /**
   * It keeps no data: no database or role is made for it and it is given no `DATABASE_URL`.
   * Every other service gets a database and a role of its own.
   */
  stateless?: boolean;
  /** Its port's place above the base when not its place in the list (a port kept for a service to come). */
  slot?: number;
  /**
   * Variables naming one address of another service, for a service that is told a single URL
   * (`PROVIDER_URL`, as for Stripe's API) rather than a list of instances: `path` is added.
   * Selecting it selects that service too.
   */
  addresses?: Readonly<Record<string, { of: string; path?: string }>>;
  /**
   * It stands outside the shop (a payment provider): no service identity is given to it, and it
   * calls none of the shop's services as one of them.
   */
  outside?: boolean;
  /**
   * How its memory is kept, where its work wants other than the services' default (an 8 MB
   * young generation, glibc's arenas: environment.ts). `semiSpaceMb` is V8's young generation
   * (`--max-semi-space-size`): the chunks a stream reads die young, and their buffers' memory is
   * freed only once a collection finds them; a smaller one collects them sooner. `mallocArenas`
   * is glibc's `MALLOC_ARENA_MAX`: each thread that allocates (libuv's and libvips's workers)
   * may otherwise get an arena of its own, which keeps what it freed. Under ten 48 MB uploads
   * with renders, media's RSS grew 203 MB without either (bench/README.md).
   */
  memory?: { semiSpaceMb?: number; mallocArenas?: number };
}

/** How far above the HTTP ports the gRPC ports sit: 8081 → 9081. */
export const grpcPortOffset = 1_000;

/**
 * How far above the HTTP ports the admin listeners sit (`/metrics` and `/admin/*`, on loopback):
 * 8081 → 10081. The kit's own default for a service started without `ADMIN_PORT`.
 */
export { adminPortOffset };

export type ServiceName = (typeof serviceSpecs)[number]['name'];

export const serviceNames: readonly ServiceName[] = serviceSpecs.map((spec) => spec.name);

// A misspelt `calls` entry would give a service the address of nothing; fail at load instead.
for (const spec of serviceSpecs as readonly ServiceSpec[]) {
  for (const called of spec.calls) {
    if (!isServiceName(called)) throw new TypeError(`service ${spec.name} calls ${called}, which is not in the list`);
  }
  for (const { of } of Object.values(spec.addresses ?? {})) {
    if (!isServiceName(of)) throw new TypeError(`service ${spec.name} is told the address of ${of}, which is not in the list`);
  }
  for (const awaited of spec.waitsFor ?? []) {
    if (!spec.calls.includes(awaited)) throw new TypeError(`service ${spec.name} waits for ${awaited}, which it does not call`);
  }
}

export function isServiceName(name: string): name is ServiceName {
  return (serviceNames as readonly string[]).includes(name);
}

/** A service's entry, with `calls` known to name listed services (checked above). */
export function specOf(name: ServiceName): Omit<ServiceSpec, 'name' | 'calls'> & { name: ServiceName; calls: readonly ServiceName[] } {
  const spec = serviceSpecs.find((s) => s.name === name);
  if (spec === undefined) throw new TypeError(`unknown service: ${name}`);
  return spec;
}

/** The services that must be ready before `name` starts (checked above to be among those it calls). */
function waitsForOf(name: ServiceName): readonly ServiceName[] {
  const spec: ServiceSpec = specOf(name);
  return (spec.waitsFor ?? spec.calls) as readonly ServiceName[];
}

/** Whether a service keeps data, and so gets a database and a role of its own. */
export function hasDatabase(name: ServiceName): boolean {
  return specOf(name).stateless !== true;
}

/** The port a service listens on, from its place in the list (or its `slot`). */
export function portOf(name: ServiceName, portBase: number): number {
  return portBase + (specOf(name).slot ?? serviceNames.indexOf(name));
}

/** How many ports above the base the stack's HTTP ports reach: the highest slot. */
export const lastSlot = Math.max(...serviceNames.map((name) => specOf(name).slot ?? serviceNames.indexOf(name)));

/** The services whose address a service is told, by `calls` or `addresses`: what it needs to work. */
export function needsOf(name: ServiceName): ServiceName[] {
  const spec: ServiceSpec = specOf(name);
  return [...spec.calls, ...Object.values(spec.addresses ?? {}).map(({ of }) => of)] as ServiceName[];
}

/** The port a service's gRPC listener is on, when it has one. */
export function grpcPortOf(name: ServiceName, portBase: number): number | undefined {
  return specOf(name).grpc === true ? portOf(name, portBase) + grpcPortOffset : undefined;
}

/** The port of a service's admin listener: `/metrics` and its `/admin/*` routes. */
export function adminPortOf(name: ServiceName, portBase: number): number {
  return portOf(name, portBase) + adminPortOffset;
}

/** The runner's variable that sets one service's admin token (`USERS_ADMIN_TOKEN`); unset, a random one each start. */
export function adminTokenVariableOf(name: string): string {
  return `${name.toUpperCase()}_ADMIN_TOKEN`;
}

/** The variable that carries a service's address to the services that call it. */
export function urlsVariableOf(name: string): string {
  return `${name.toUpperCase()}_URLS`;
}

/** The variable that carries a service's gRPC address to the services that call it. */
export function grpcUrlsVariableOf(name: string): string {
  return `${name.toUpperCase()}_GRPC_URLS`;
}

/**
 * The order to stop services in: groups that can stop together, callers before the services
 * they call, so no request in flight loses its upstream half-way.
 */
export function stopOrder(names: readonly ServiceName[]): ServiceName[][] {
  const groups: ServiceName[][] = [];
  let remaining = [...names];
  while (remaining.length > 0) {
    // A service outside the shop (the provider's webhooks) is no caller to wait for.
    // Nor is a service's call to itself (media reads its own event feed without a broker).
    const calledByRemaining = new Set<string>(remaining.flatMap((name) => (specOf(name).outside === true ? [] : needsOf(name).filter((needed) => needed !== name))));
    const group = remaining.filter((name) => !calledByRemaining.has(name));
    // A cycle would leave no service uncalled; stop the rest together rather than loop forever.
    const next = group.length > 0 ? group : remaining;
    groups.push(next);
    remaining = remaining.filter((name) => !next.includes(name));
  }
  return groups;
}

/**
 * The order to start services in: groups that can start together, each service after the
 * services it calls are ready (as Aspire's `WaitFor` does), so none spends its first seconds
 * failing to reach an upstream that is still starting. Services outside `names` do not count.
 */
export function startOrder(names: readonly ServiceName[]): ServiceName[][] {
  const groups: ServiceName[][] = [];
  const started = new Set<ServiceName>();
  let remaining = [...names];
  while (remaining.length > 0) {
    const group = remaining.filter((name) => waitsForOf(name).every((called) => started.has(called) || !names.includes(called)));
    // A cycle would leave nothing startable; start the rest together rather than loop forever.
    const next = group.length > 0 ? group : remaining;
    groups.push(next);
    for (const name of next) started.add(name);
    remaining = remaining.filter((name) => !next.includes(name));
  }
  return groups;
}
