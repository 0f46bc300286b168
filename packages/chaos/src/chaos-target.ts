import type { FaultRule } from '@baton/kit/service';
import { request } from 'undici';
import type { ProviderCharge } from './shop-ledger.ts';

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
  /** The calls the service has answered since it started (HTTP and gRPC, its probes and metrics left out), from its own counters. */
  callsServed(name: string): Promise<number>;
  /** The payment provider's intents for these orders, where it can be read (`npm run chaos` holds its key). */
  providerCharges?: ((orderIds: ReadonlySet<string>) => Promise<ProviderCharge[]>) | undefined;
  /** The link to the broker the shop's events go through, where there is one to cut (`npm run chaos`'s broker shops). */
  brokerLink?: { cut(): Promise<void>; restore(): Promise<void> } | undefined;
  /** Moves a service's wall clock (0: back in step); only where the shop was started with movable clocks (`npm run chaos`). */
  setClockOffset?: ((name: string, offsetSeconds: number) => Promise<void>) | undefined;
}

// What the orchestrator and the console ask, not what a caller does.
const notCalls = new Set(['/healthz', '/readyz', '/metrics']);

/** Sums a service's answered-call counters from its Prometheus text (a few series, no parser needed). */
export function callsIn(metricsText: string): number {
  let total = 0;
  for (const line of metricsText.split('\n')) {
    if (!line.startsWith('http_server_requests_total{') && !line.startsWith('rpc_server_requests_total{')) continue;
    const route = /route="([^"]*)"/.exec(line)?.[1];
    if (route !== undefined && notCalls.has(route)) continue;
    total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}

/** A target over a running stack: faults through each service's admin listener, with its admin token. */
export function targetOf(stack: StackHandle, { gateway = 'gateway', setClockOffset, providerCharges, brokerLink }: {
  gateway?: string; setClockOffset?: ChaosTarget['setClockOffset']; providerCharges?: ChaosTarget['providerCharges']; brokerLink?: ChaosTarget['brokerLink'];
} = {}): ChaosTarget {
  return {
    stack,
    brokerLink,
    setClockOffset,
    providerCharges,
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
    async callsServed(name) {
      // undici's request, not fetch: fetch refuses some admin ports (10080) as "bad ports".
      const answer = await request(new URL('/metrics', stack.adminUrl(name)), { signal: AbortSignal.timeout(5_000) });
      const text = await answer.body.text();
      if (answer.statusCode !== 200) throw new Error(`${name}'s /metrics answered ${answer.statusCode}`);
      return callsIn(text);
    },
  };
}
