import { Pool } from 'undici';
import { createHttpClient } from '../../packages/kit/src/http/index.ts';
import { startJsonServerProcess } from '../harness/json-server-process.ts';
import { pairedRounds } from '../harness/load.ts';
import { formatInterval } from '../harness/stats.ts';
import type { Row, Scenario } from '../harness/report.ts';

const concurrency = 16;
// Many short rounds, as service-identity's: this machine's speed moves by ±20% between 300 ms
// windows, and short rounds pair variants on the same machine (bench/README.md, the fifteenth session).
const roundMs = 20;
const rounds = 1_000;

export const clientOverhead: Scenario = {
  name: 'client-overhead',
  description: `The kit's HTTP client (bulkhead, retry, balancer, breaker, deadline header, body always consumed) vs bare \`undici.request\` on a Pool vs global \`fetch\`, against one keep-alive loopback server answering a small JSON body, in a process of its own (as the service a client calls is; in the client's process its cost would be added to every variant alike); ${concurrency} concurrent callers, ${rounds} rounds of ${roundMs} ms, every variant once per round in an order that rotates from round to round; throughput is the median of the rounds, and each ratio the median of the rounds' ratios, so a change in the machine's load between rounds cancels out, with the 95% interval of that median. The client's process is busy about one core in every variant (its row): the client, not the server, is what each round measures.`,
  target: 'kit ≥ 80% of undici.request, ≥ 2.5× fetch',
  async run() {
    const server = await startJsonServerProcess();
    const kit = createHttpClient({ name: 'bench', urls: [server.url], connectionsPerInstance: concurrency, bulkhead: { maxConcurrent: 1_000, maxQueue: 1_000 } });
    const pool = new Pool(server.url, { connections: concurrency });
    const signal = new AbortController().signal;
    const variants: Record<string, () => Promise<unknown>> = {
      'kit client': () => kit.request({ method: 'GET', path: '/', signal }),
      'undici.request': async () => { const { body } = await pool.request({ method: 'GET', path: '/' }); return body.json(); },
      'fetch': async () => (await fetch(server.url)).json(),
    };
    const measured = await pairedRounds(variants, { concurrency, rounds, roundMs });
    await kit.close();
    await pool.close();
    await server.stop();
    const rows: Row[] = Object.keys(variants).flatMap((name): Row[] => [
      { variant: name, metric: 'throughput', value: measured.perSecond(name), unit: 'requests/s' },
      { variant: name, metric: 'client CPU per call', value: measured.cpuUsPerCall(name), unit: 'µs', note: 'the client process alone' },
      { variant: name, metric: 'client process busy', value: (measured.cpuUsPerCall(name) * measured.perSecond(name)) / 1e6, unit: 'cores', note: 'about 1: the client is what limits the round' },
    ]);
    const ratio = (variant: string, name: string, to: string, note: string): Row => {
      return { variant, metric: 'ratio', value: measured.pairedRatio(name, to), unit: '×', note: `${note}; ${formatInterval(measured.pairedInterval(name, to))}` };
    };
    const cpuRatio = (variant: string, name: string, to: string): Row => {
      return { variant, metric: 'client CPU per call ratio', value: measured.pairedCpuRatio(name, to), unit: '×', note: formatInterval(measured.pairedCpuInterval(name, to)) };
    };
    rows.push(ratio('kit / undici.request', 'kit client', 'undici.request', 'target ≥ 0.8'));
    rows.push(ratio('kit / fetch', 'kit client', 'fetch', 'target ≥ 2.5'));
    rows.push(ratio('undici.request / fetch', 'undici.request', 'fetch', 'what the library alone gives over fetch'));
    rows.push(cpuRatio('kit / undici.request', 'kit client', 'undici.request'));
    rows.push(cpuRatio('kit / fetch', 'kit client', 'fetch'));
    return rows;
  },
};
