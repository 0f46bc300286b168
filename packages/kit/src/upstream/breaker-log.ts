import type { CircuitState } from '../resilience/index.ts';
import type { HttpClientLogger } from './events.ts';

/**
 * Log lines for an upstream's breakers. Opening is what an operator must notice; the first probe
 * and the closing are how it ends, and are logged too, so whoever read "circuit opened" can also
 * read when it was over. The probes in between are not: an instance that refuses connections is
 * probed every 100 ms, and a line for each would bury everything else. The closing line says how
 * many probes failed before it.
 *
 * @example
 * const logBreakerChange = createBreakerLog(logger, 'inventory');
 * createCircuitBreaker({ onStateChange: (from, to) => logBreakerChange(instance, from, to) });
 */
export function createBreakerLog(logger: HttpClientLogger | undefined, upstream: string): (instance: string, from: CircuitState, to: CircuitState) => void {
  // Per instance, while its circuit is not closed: the probes that failed.
  const failedProbes = new Map<string, number>();
  return function logBreakerChange(instance, from, to) {
    if (logger === undefined) return;
    const fields = { upstream, instance, from, to };
    if (from === 'closed' && to === 'open') {
      failedProbes.set(instance, 0);
      logger.warn(fields, 'circuit opened');
    } else if (from === 'half_open' && to === 'open') {
      failedProbes.set(instance, (failedProbes.get(instance) ?? 0) + 1);
    } else if (to === 'half_open') {
      if ((failedProbes.get(instance) ?? 0) === 0) logger.info(fields, 'circuit half-open; letting a probe through');
    } else if (to === 'closed') {
      logger.info({ ...fields, failed_probes: failedProbes.get(instance) ?? 0 }, 'circuit closed');
      failedProbes.delete(instance);
    }
  };
}
