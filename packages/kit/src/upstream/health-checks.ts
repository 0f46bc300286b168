import type { BalancedEndpoint, EndpointSet } from './endpoint-set.ts';
import type { HttpClientEvent, HttpClientLogger } from './events.ts';
import { policyDefaults } from '../resilience/defaults.ts';

export interface HealthCheckOptions {
  /** How often each instance is asked; false: never (an upstream outside Baton has no `/readyz`). */
  intervalMs?: number;
  /** A probe unanswered this long has failed. */
  timeoutMs?: number;
  /** Failed probes in a row that take an instance out of rotation; one success brings it back. */
  unhealthyAfter?: number;
}

export interface HealthChecks {
  stop(): void;
}

/** Asks one instance whether it serves (`/readyz`, gRPC health's Check) over its own connection; throws when not. */
export type Probe<E> = (endpoint: E, signal: AbortSignal) => Promise<void>;

/**
 * Active health checking, as Envoy's: every `intervalMs` each instance of an upstream with more
 * than one is asked whether it serves, over the connection its calls use, and one that fails
 * `unhealthyAfter` probes in a row leaves rotation (`endpoint.unhealthy`) until a probe passes.
 *
 * Why, besides the balancer's latency and outlier ejection, which learn from calls: an instance
 * whose packets vanish (a partition) teaches a client only by a call that waits out its timeout,
 * and a client that had not called it lately learns nothing until it pays that once more; seen in
 * the multi-host proof (test/hosts), where each orders replica sent the partitioned inventory
 * replica its own late calls. A probe pays instead of a caller. With one instance there is
 * nothing to choose between, so nothing is probed (a shop under `npm start` sends no probes).
 *
 * @example
 * const checks = startHealthChecks(endpoints, (endpoint, signal) => probeReadyz(endpoint, signal), { upstream: 'inventory', logger, onEvent });
 * onClose(() => checks.stop());
 */
export function startHealthChecks<E extends BalancedEndpoint>(endpoints: EndpointSet<E>, probe: Probe<E>, { upstream, logger, onEvent, ...options }: HealthCheckOptions & {
  upstream: string;
  logger: HttpClientLogger | undefined;
  onEvent: ((event: HttpClientEvent) => void) | undefined;
}): HealthChecks {
  const { intervalMs = policyDefaults.healthCheck.intervalMs, timeoutMs = policyDefaults.healthCheck.timeoutMs, unhealthyAfter = policyDefaults.healthCheck.unhealthyAfter } = options;
  const failures = new WeakMap<E, number>();
  const asking = new WeakSet<E>();

  function settled(endpoint: E, error: unknown): void {
    asking.delete(endpoint);
    if (error === undefined) {
      failures.set(endpoint, 0);
      if (endpoint.unhealthy === true) {
        endpoint.unhealthy = false;
        logger?.info({ upstream, instance: endpoint.instance }, 'instance passes its health check again');
        onEvent?.({ type: 'health', upstream, instance: endpoint.instance, healthy: true });
      }
      return;
    }
    const failed = (failures.get(endpoint) ?? 0) + 1;
    failures.set(endpoint, failed);
    if (failed >= unhealthyAfter && endpoint.unhealthy !== true) {
      endpoint.unhealthy = true;
      logger?.warn({ upstream, instance: endpoint.instance, failed_probes: failed, err: error }, 'instance fails its health check: out of rotation');
      onEvent?.({ type: 'health', upstream, instance: endpoint.instance, healthy: false });
    }
  }

  function round(): void {
    if (endpoints.size < 2) return;
    for (const endpoint of endpoints.all()) {
      // One probe at a time per instance: a silent one is not asked again until its probe has failed.
      if (asking.has(endpoint)) continue;
      asking.add(endpoint);
      let result: Promise<void>;
      try {
        result = probe(endpoint, AbortSignal.timeout(timeoutMs));
      } catch (thrown) {
        result = Promise.reject(thrown);
      }
      result.then(() => settled(endpoint, undefined), (error: unknown) => settled(endpoint, error ?? new Error('probe failed')));
    }
  }

  // Not on the client's clock: probes are real network traffic on real time, and a test's
  // manual clock must not fire them. Unref'd: a client nobody closed does not hold a process open.
  const timer = setInterval(round, intervalMs);
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
    },
  };
}
