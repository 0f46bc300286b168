import { Pool } from 'undici';
import { createHttpClient } from '../../packages/kit/src/http/index.ts';
import { closedLoop } from '../harness/load.ts';
import type { Row, Scenario } from '../harness/report.ts';
import { median } from '../harness/stats.ts';
import { loopbackServer } from '../harness/server.ts';

const concurrency = 16;
const roundMs = 1_500;
const rounds = 3;

export const clientOverhead: Scenario = {
  name: 'client-overhead',
  description: `The kit's HTTP client (bulkhead, retry, balancer, breaker, deadline header, body always consumed) vs bare \`undici.request\` on a Pool vs global \`fetch\`, against one keep-alive loopback server answering a small JSON body; ${concurrency} concurrent callers, ${rounds} interleaved rounds of ${roundMs} ms each, median of the rounds.`,
  target: 'kit ≥ 80% of undici.request, ≥ 2.5× fetch',
  async run() {
    const server = await loopbackServer((_req, res) => { res.setHeader('content-type', 'application/json'); res.end('{"ok":true}'); });
    const kit = createHttpClient({ name: 'bench', urls: [server.url], connectionsPerInstance: concurrency, bulkhead: { maxConcurrent: 1_000, maxQueue: 1_000 } });
    const pool = new Pool(server.url, { connections: concurrency });
    const signal = new AbortController().signal;
    const variants: Record<string, () => Promise<unknown>> = {
      'kit client': () => kit.request({ method: 'GET', path: '/', signal }),
      'undici.request': async () => { const { body } = await pool.request({ method: 'GET', path: '/' }); return body.json(); },
      'fetch': async () => (await fetch(server.url)).json(),
    };
    const perSecond: Record<string, number[]> = {};
    for (const call of Object.values(variants)) await closedLoop(call, { concurrency, durationMs: 300 }); // warm-up
    for (let round = 0; round < rounds; round++) {
      for (const [name, call] of Object.entries(variants)) {
        (perSecond[name] ??= []).push((await closedLoop(call, { concurrency, durationMs: roundMs })).perSecond);
      }
    }
    await kit.close();
    await pool.close();
    await server.close();
    const rate = (name: string) => median(perSecond[name] ?? []);
    const rows: Row[] = Object.keys(variants).map((name) => ({ variant: name, metric: 'throughput', value: rate(name), unit: 'requests/s' }));
    rows.push({ variant: 'kit / undici.request', metric: 'ratio', value: rate('kit client') / rate('undici.request'), unit: '×', note: 'target ≥ 0.8' });
    rows.push({ variant: 'kit / fetch', metric: 'ratio', value: rate('kit client') / rate('fetch'), unit: '×', note: 'target ≥ 2.5' });
    return rows;
  },
};
