import type { CircuitState } from '../resilience/index.ts';
import type { HttpClientLogger } from './events.ts';

// Opening is what an operator must notice; probing and closing are how it ends, and are logged
// too, so whoever read "circuit opened" can also read when it was over.
const lines: Readonly<Record<CircuitState, { level: 'warn' | 'info'; message: string }>> = {
  open: { level: 'warn', message: 'circuit opened' },
  half_open: { level: 'info', message: 'circuit half-open; letting a probe through' },
  closed: { level: 'info', message: 'circuit closed' },
};

/**
 * Writes one log line for a breaker's change of state, naming the upstream, the instance and
 * both states.
 *
 * @example
 * createCircuitBreaker({ onStateChange: (from, to) => logBreakerChange(logger, 'inventory', instance, from, to) });
 */
export function logBreakerChange(logger: HttpClientLogger | undefined, upstream: string, instance: string, from: CircuitState, to: CircuitState): void {
  if (logger === undefined) return;
  const { level, message } = lines[to];
  logger[level]({ upstream, instance, from, to }, message);
}
