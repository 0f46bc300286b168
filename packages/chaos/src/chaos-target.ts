import type { FaultRule } from '@baton/kit/service';
import { request } from 'undici';
import type { ProviderCharge } from './shop-ledger.ts';
import type { Check } from './verdict.ts';

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
  /** The events a consuming service gave up on (its admin API's `/admin/dead-letters`). */
  deadLetters(name: string): Promise<DeadLetter[]>;
  /** Writes a poison event into a publisher's outbox, as a bug of its would, and says its id (`npm run chaos` holds the databases). */
  writePoisonEvent?: ((publisher: string) => Promise<string>) | undefined;
  /** Media's folder on a small disk of its own: `fill` takes every free byte (and says how many), `free` gives them back. */
  mediaDisk?: { fill(): Promise<number>; free(): Promise<void> } | undefined;
  /** The runner, where it is a process of its own (`npm start`'s). */
  runner?: RunnerHandle | undefined;
}

export interface DeadLetter {
  eventId: string;
  type: string;
  error: string;
  attempts: number;
}

/** `npm start`'s runner as a process the scenario may kill. */
export interface RunnerHandle {
  /** SIGKILL to the runner; resolves once its processes and ports are gone, or after a bound, with the check of what was left. */
  killHard(): Promise<Check>;
  /** `npm start` again on the same folder and ports; resolves once every service is ready. */
  startAgain(timeoutMs: number): Promise<void>;
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
export function targetOf(stack: StackHandle, { gateway = 'gateway', ...extras }: {
  gateway?: string;
} & Pick<ChaosTarget, 'setClockOffset' | 'providerCharges' | 'brokerLink' | 'writePoisonEvent' | 'mediaDisk' | 'runner'> = {}): ChaosTarget {
  const admin = (name: string) => ({ authorization: `Bearer ${stack.adminToken(name)}` });
  return {
    stack,
    ...extras,
    gatewayUrl: stack.url(gateway),
    async setFaults(name, rules) {
      const res = await fetch(new URL('/admin/faults', stack.adminUrl(name)), {
        method: 'PUT',
        headers: { ...admin(name), 'content-type': 'application/json' },
        body: JSON.stringify({ rules }),
        signal: AbortSignal.timeout(5_000),
      });
      await res.body?.cancel();
      if (res.status !== 200) throw new Error(`${name} answered ${res.status} to its fault rules`);
    },
    waitReady: (name, timeoutMs) => stack.waitReady(name, { timeoutMs }),
    async deadLetters(name) {
      const answer = await request(new URL('/admin/dead-letters?limit=100', stack.adminUrl(name)), { headers: admin(name), signal: AbortSignal.timeout(5_000) });
      const body = await answer.body.json() as { items?: DeadLetter[] };
      if (answer.statusCode !== 200 || !Array.isArray(body.items)) throw new Error(`${name}'s dead letters answered ${answer.statusCode}`);
      return body.items;
    },
    async callsServed(name) {
      // undici's request, not fetch: fetch refuses some admin ports (10080) as "bad ports".
      const answer = await request(new URL('/metrics', stack.adminUrl(name)), { signal: AbortSignal.timeout(5_000) });
      const text = await answer.body.text();
      if (answer.statusCode !== 200) throw new Error(`${name}'s /metrics answered ${answer.statusCode}`);
      return callsIn(text);
    },
  };
}
