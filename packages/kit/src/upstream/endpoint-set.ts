import { KitError } from '../errors/index.ts';
import type { Balancer } from './balancer.ts';
import type { CircuitBreaker, Clock } from '../resilience/index.ts';
import { systemClock } from '../resilience/clock.ts';
import type { BalancerCandidate } from './balancer.ts';
import type { Discovery } from './discovery.ts';
import type { OutlierDetector } from './outlier-detection.ts';

/**
 * What the set needs of one instance, whatever carries its calls (an undici pool for HTTP, an
 * HTTP/2 session for gRPC): its origin, its breaker, what the balancer reads, and a graceful close.
 */
export interface BalancedEndpoint extends BalancerCandidate {
  readonly instance: string;
  readonly breaker: CircuitBreaker;
  /** Set when the instance said it is leaving (`shutting_down`, GOAWAY, a refused stream): out of rotation until then. */
  leavingUntilMs?: number;
  /** Set while the instance fails its health checks (`health-checks.ts`): out of rotation until one passes. */
  unhealthy?: boolean;
  /** Closes its connections once the attempts already on it have finished. */
  close(): Promise<void>;
}

/** The live instances of one upstream, kept in step with discovery. */
export interface EndpointSet<Endpoint extends BalancedEndpoint> {
  readonly size: number;
  all(): IterableIterator<Endpoint>;
  /**
   * Chooses an instance for an attempt. Never one in `exclude`; preferably one not in `prefer`
   * to avoid (a retry goes to another instance when there is one), and one neither ejected nor
   * behind an open breaker. When every instance is ejected or open, one is still returned: its
   * breaker then refuses without touching the network, or lets a probe through.
   */
  choose(exclude: ReadonlySet<Endpoint> | undefined, avoid: ReadonlySet<Endpoint>): Endpoint | undefined;
  /** Whether an instance outside `exclude` is in rotation now (where a hedge could go). */
  hasUsable(exclude: ReadonlySet<Endpoint>): boolean;
  /** Settles once discovery's first lookup is over, or rejects when the signal fires first. */
  ready(signal: AbortSignal): Promise<void>;
  close(): Promise<void>;
}

export interface EndpointSetOptions<Endpoint extends BalancedEndpoint> {
  discovery: Discovery;
  /** Whether closing the set closes the discovery too (it does when the client made it). */
  ownsDiscovery: boolean;
  /** Makes the endpoint of an instance discovery just listed. */
  createEndpoint(instance: string): Endpoint;
  outliers: OutlierDetector;
  balancer: Balancer;
  /** For `leavingUntilMs`; the system clock by default. */
  clock?: Clock;
  onChange?(instances: readonly string[]): void;
}

/**
 * One endpoint per instance discovery lists. An instance that leaves the list stops getting
 * attempts at once; its pool closes gracefully, after the attempts already on it finish.
 *
 * @example
 * const endpoints = createEndpointSet({ discovery, ownsDiscovery: true, createEndpoint: (instance) => createEndpoint(instance, options), outliers, balancer });
 */
export function createEndpointSet<Endpoint extends BalancedEndpoint>({ discovery, ownsDiscovery, createEndpoint, outliers, balancer, onChange, clock = systemClock }: EndpointSetOptions<Endpoint>): EndpointSet<Endpoint> {
  const endpoints = new Map<string, Endpoint>();
  const retiring = new Set<Promise<void>>();

  function follow(instances: readonly string[]): void {
    for (const instance of instances) {
      if (!endpoints.has(instance)) endpoints.set(instance, createEndpoint(instance));
    }
    for (const [instance, endpoint] of endpoints) {
      if (instances.includes(instance)) continue;
      endpoints.delete(instance);
      outliers.forget(instance);
      const closing = endpoint.close().catch(() => undefined).finally(() => retiring.delete(closing));
      retiring.add(closing);
    }
    onChange?.(instances);
  }

  follow(discovery.instances());
  const unsubscribe = discovery.subscribe(follow);

  function inRotation(endpoint: Endpoint): boolean {
    const leaving = endpoint.leavingUntilMs !== undefined && endpoint.leavingUntilMs > clock.now();
    return !leaving && endpoint.unhealthy !== true && !outliers.isEjected(endpoint.instance) && endpoint.breaker.state !== 'open';
  }

  return {
    get size() {
      return endpoints.size;
    },
    all: () => endpoints.values(),
    choose(exclude, avoid) {
      // One instance (the common case): it is the answer whatever its state, as below.
      if (endpoints.size === 1) {
        const only = endpoints.values().next().value as Endpoint;
        return exclude?.has(only) === true ? undefined : only;
      }
      const fresh: Endpoint[] = [];
      const usable: Endpoint[] = [];
      const remaining: Endpoint[] = [];
      for (const endpoint of endpoints.values()) {
        if (exclude?.has(endpoint) === true) continue;
        remaining.push(endpoint);
        if (!inRotation(endpoint)) continue;
        usable.push(endpoint);
        if (!avoid.has(endpoint)) fresh.push(endpoint);
      }
      return balancer(fresh.length > 0 ? fresh : usable.length > 0 ? usable : remaining);
    },
    hasUsable(exclude) {
      for (const endpoint of endpoints.values()) if (!exclude.has(endpoint) && inRotation(endpoint)) return true;
      return false;
    },
    ready(signal) {
      if (signal.aborted) return Promise.reject(KitError.from(signal.reason));
      return new Promise<void>((resolve, reject) => {
        const onAbort = () => reject(KitError.from(signal.reason));
        signal.addEventListener('abort', onAbort, { once: true });
        void discovery.ready.then(() => {
          signal.removeEventListener('abort', onAbort);
          resolve();
        });
      });
    },
    async close() {
      unsubscribe();
      if (ownsDiscovery) discovery.close();
      const pools = [...endpoints.values()].map((endpoint) => endpoint.close().catch(() => undefined));
      endpoints.clear();
      await Promise.all([...pools, ...retiring]);
    },
  };
}
