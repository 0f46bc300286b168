import type { Code } from '../errors/index.ts';
import type { CircuitState, GiveUpReason } from '../resilience/index.ts';

/**
 * What the client reports as it works, for metrics, span events and logs. Every event names
 * the upstream (the client's `name`); per-instance events name the instance by its origin.
 * The client builds an event only when someone listens, so an unused hook costs nothing.
 */
export type HttpClientEvent =
  | { type: 'attempt_start'; upstream: string; instance: string; method: string; attempt: number; hedge: boolean }
  | {
    type: 'attempt_end';
    upstream: string;
    instance: string;
    method: string;
    attempt: number;
    hedge: boolean;
    /** The HTTP status, when the instance answered. */
    status: number | undefined;
    /** The error's code, when the attempt failed. */
    code: Code | undefined;
    /** `ok`: a usable 2xx. `error`: any other answer or a transport failure. `aborted`: this side gave up (deadline, caller, lost hedge). */
    outcome: 'ok' | 'error' | 'aborted';
    durationMs: number;
  }
  | { type: 'retry'; upstream: string; attempt: number; delayMs: number; code: Code }
  | { type: 'give_up'; upstream: string; attempt: number; reason: GiveUpReason; code: Code }
  | { type: 'hedge'; upstream: string; delayMs: number }
  | { type: 'breaker_state'; upstream: string; instance: string; from: CircuitState; to: CircuitState }
  | { type: 'bulkhead_reject'; upstream: string }
  | { type: 'ejection'; upstream: string; instance: string; durationMs: number; ejections: number }
  | { type: 'health'; upstream: string; instance: string; healthy: boolean }
  | { type: 'discovery'; upstream: string; instances: readonly string[] }
  | { type: 'discovery_error'; upstream: string; error: unknown };

export type HttpClientEventType = HttpClientEvent['type'];

/** The least of a logger the client needs; a pino logger fits. */
export interface HttpClientLogger {
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
}
