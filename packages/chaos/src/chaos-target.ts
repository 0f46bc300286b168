import type { FaultRule } from '@baton/kit/service';

/** What a scenario needs of the shop it breaks: the runner's stack has it (the console's `ConsoleStack` too). */
export interface StackHandle {
  readonly services: readonly string[];
  url(name: string): string;
  adminUrl(name: string): string;
  adminToken(name: string): string;
  status(name: string): { state: string; pid: number | undefined; restarts: number };
  kill(name: string, signal?: NodeJS.Signals): Promise<unknown>;
  /** Resolves once the service is ready (the runner's own wait), or rejects after `timeoutMs`. */
  waitReady(name: string, options?: { timeoutMs?: number }): Promise<void>;
}

export interface ChaosTarget {
  readonly stack: StackHandle;
  /** The public entry the load calls. */
  readonly gatewayUrl: string;
  /** Replaces a service's fault rules (its admin listener's `/admin/faults`). */
  setFaults(name: string, rules: readonly FaultRule[]): Promise<void>;
  /** Resolves once the service is ready again (after a kill, the runner restarts it), or rejects after `timeoutMs`. */
  waitReady(name: string, timeoutMs: number): Promise<void>;
}

/** A target over a running stack: faults through each service's admin listener, with its admin token. */
export function targetOf(stack: StackHandle, { gateway = 'gateway' } = {}): ChaosTarget {
  return {
    stack,
    gatewayUrl: stack.url(gateway),
    async setFaults(name, rules) {
      const res = await fetch(new URL('/admin/faults', stack.adminUrl(name)), {
        method: 'PUT',
        headers: { authorization: `Bearer ${stack.adminToken(name)}`, 'content-type': 'application/json' },
        body: JSON.stringify({ rules }),
        signal: AbortSignal.timeout(5_000),
      });
      await res.body?.cancel();
      if (res.status !== 200) throw new Error(`${name} answered ${res.status} to its fault rules`);
    },
    waitReady: (name, timeoutMs) => stack.waitReady(name, { timeoutMs }),
  };
}
