import { randomInt } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, request } from 'undici';
import { closedLoop, openLoop } from './loops.ts';
import type { Check } from './verdict.ts';

export interface OverloadOptions {
  gatewayUrl: string;
  /** Every service's base URL: its `/readyz` is the critical class, asked throughout. */
  serviceUrls: Readonly<Record<string, string>>;
  /** The offered rate, as a multiple of the capacity measured just before. */
  factor: number;
}

export interface Overload {
  /** Stops the flood and the probes, waits for the flood's last answers, and judges them. */
  stop(): Promise<Check[]>;
}

// Loopback addresses the flood comes from: as many people, so the gateway's per-address rate
// limit (600 a minute) sees a crowd, not one machine it would answer with 429 alone.
const addresses = 250;
// What the flood reads: the catalogue, a `low` priority route, shed first.
const floodPath = '/api/v1/products?limit=24';
// A flood request unanswered this long is a hang.
const hangAfterMs = 30_000;
const probeEveryMs = 250;
// The critical class is never shed: each probe answered 200 within this.
const criticalWithinMs = 1_000;

/**
 * Overload at `factor` × capacity: the catalogue reads the shop sustains with 32 in flight are
 * measured for 2 s, then an open loop offers `factor` times that rate (arrivals that do not wait
 * for answers, as a crowd's), from 250 loopback addresses, until `stop`. Meanwhile every
 * service's `/readyz` (the critical class: health, readiness, metrics, never shed) is asked
 * every 250 ms. The checks: the critical class kept (every probe 200 within 1 s), and the flood
 * answered honestly (each read 200, 503 shed or 429 limited: no 500, no hang).
 *
 * Linux only (all of 127/8 answers there).
 */
export async function startOverload({ gatewayUrl, serviceUrls, factor }: OverloadOptions): Promise<Overload> {
  const network = `127.${randomInt(1, 255)}`;
  const agents = Array.from({ length: addresses }, (_, i) => new Agent({ connections: 16, localAddress: `${network}.${Math.floor(i / 250)}.${(i % 250) + 1}` }));
  // Why reads got no answer, by error code: what the check's detail names.
  const noAnswers = new Map<string, number>();
  const read = async (): Promise<number> => {
    const agent = agents[randomInt(agents.length)]!;
    try {
      const answer = await request(new URL(floodPath, gatewayUrl), { dispatcher: agent, signal: AbortSignal.timeout(hangAfterMs) });
      await answer.body.dump();
      return answer.statusCode;
    } catch (error) {
      const code = (error as { code?: string }).code ?? (error as Error).name;
      noAnswers.set(code, (noAnswers.get(code) ?? 0) + 1);
      return 0;
    }
  };
  const capacityPerSecond = (await closedLoop(async () => {
    if (await read() !== 200) throw new Error('not served');
  }, { concurrency: 32, durationMs: 2_000 })).perSecond;
  const offeredPerSecond = Math.max(1, Math.round(capacityPerSecond * factor));

  const stopping = new AbortController();
  const startedAt = performance.now();
  const flood = openLoop(read, { ratePerSecond: offeredPerSecond, signal: stopping.signal });
  const probes: Array<{ service: string; status: number; tookMs: number }> = [];
  const probing = (async () => {
    while (!stopping.signal.aborted) {
      await Promise.all(Object.entries(serviceUrls).map(async ([service, url]) => {
        const sentAt = performance.now();
        let status = 0;
        try {
          const answer = await request(new URL('/readyz', url), { signal: AbortSignal.timeout(hangAfterMs) });
          await answer.body.dump();
          status = answer.statusCode;
        } catch {
          // No answer: status 0.
        }
        probes.push({ service, status, tookMs: performance.now() - sentAt });
      }));
      await sleep(probeEveryMs, undefined, { signal: stopping.signal }).catch(() => undefined);
    }
  })();

  return {
    async stop() {
      stopping.abort();
      const floodSeconds = (performance.now() - startedAt) / 1_000;
      const [outcomes] = await Promise.all([flood, probing]);
      await Promise.all(agents.map((agent) => agent.close()));
      const count = (status: number) => outcomes.filter((o) => o.value === status).length;
      const dishonest = outcomes.filter((o) => o.value !== 200 && o.value !== 503 && o.value !== 429);
      const missed = probes.filter((p) => p.status !== 200 || p.tookMs > criticalWithinMs);
      const slowest = Math.max(0, ...probes.map((p) => p.tookMs));
      return [
        {
          name: 'critical class kept',
          passed: probes.length > 0 && missed.length === 0,
          detail: missed.length === 0
            ? `all ${probes.length} readiness probes answered 200 within ${criticalWithinMs} ms (the slowest ${Math.round(slowest)} ms)`
            : `${missed.length} of ${probes.length} readiness probes failed or were late: ${[...new Set(missed.map((p) => `${p.service} ${p.status === 0 ? 'no answer' : p.status}`))].join(', ')}`,
        },
        {
          name: 'overload answered honestly',
          passed: outcomes.length > 0 && dishonest.length === 0,
          detail: `${outcomes.length} reads offered at ${offeredPerSecond}/s (${factor}× the ${Math.round(capacityPerSecond)}/s measured) over ${floodSeconds.toFixed(1)} s: ${count(200)} served, ${count(503)} shed (503), ${count(429)} limited (429)` +
            (dishonest.length === 0 ? '' : `, ${dishonest.length} otherwise (${[...new Set(dishonest.map((o) => o.value ?? 0))].join(', ')}${noAnswers.size === 0 ? '' : `; no answer: ${[...noAnswers].map(([code, n]) => `${n} ${code}`).join(', ')}`})`),
        },
      ];
    },
  };
}
