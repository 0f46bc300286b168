import { createContextKey } from '@connectrpc/connect';
import type { GrpcEndpoint } from './endpoint.ts';

/**
 * What one call carries from interceptor to interceptor and from attempt to attempt. Connect
 * replaces the caller's signal with one of its own before the interceptors run, which loses the
 * deadline attached to it; the client's transport puts the caller's signal here first.
 */
export interface CallState {
  /** The caller's own signal, with its deadline attached (`deadlineOf`). */
  readonly callerSignal: AbortSignal | undefined;
  /** This call's own cap (the client's `timeoutMs`, or the call's `timeoutMs`). */
  readonly timeoutMs: number;
  /** When the call must be over, on the client's clock; each attempt sends what is left of it. */
  deadlineAtMs: number;
  /** Instances already tried: a retry goes elsewhere when it can. */
  readonly tried: Set<GrpcEndpoint>;
  /** The highest attempt number reached, to know whether this client retried at all. */
  attempts: number;
}

export const callStateKey = createContextKey<CallState | undefined>(undefined, { description: 'baton call state' });

export function callStateOf(values: { get<T>(key: { id: symbol; defaultValue: T }): T }): CallState {
  const state = values.get(callStateKey);
  // Only a call made through the kit's transport reaches these interceptors.
  if (state === undefined) throw new TypeError('a kit gRPC interceptor ran outside the kit gRPC client');
  return state;
}
