import { createHttpClient } from '../../packages/kit/src/http/index.ts';
import { signalUntil } from '../../packages/kit/src/resilience/index.ts';
import type { Row, Scenario } from '../harness/report.ts';
import { summarize } from '../harness/stats.ts';
import { loopbackServer } from '../harness/server.ts';

const deadlineMs = 200;
const slowShare = 0.2;
const slowMs = 5_000;
const calls = 200;
const concurrency = 20;

async function run(call: () => Promise<unknown>, count: number) {
  const latencies: number[] = [];
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < count) {
      next += 1;
      const t0 = performance.now();
      await call().catch(() => undefined);
      latencies.push(performance.now() - t0);
    }
  }));
  return latencies;
}

export const slowUpstream: Scenario = {
  name: 'slow-upstream',
  description: `A checkout-shaped call: the caller has a ${deadlineMs} ms deadline; ${slowShare * 100}% of the upstream's answers take ${slowMs} ms, the rest 2 ms. The kit client with the deadline (${calls} calls, ${concurrency} at a time) vs a naive fetch with no deadline (${calls / 2} calls, to bound the run).`,
  target: 'p99 ≈ the deadline (ratio ≈ 1), never the upstream\'s 5 s; no call later than deadline + 50 ms',
  async run() {
    let n = 0;
    const server = await loopbackServer((_req, res) => {
      n += 1;
      const delayMs = n % Math.round(1 / slowShare) === 0 ? slowMs : 2;
      const timer = setTimeout(() => res.end('{}'), delayMs);
      res.on('close', () => clearTimeout(timer));
    });
    const kit = createHttpClient({ name: 'slow', urls: [server.url], retry: { maxAttempts: 1 }, breaker: { consecutiveFailures: 1_000_000, minimumRequests: 1_000_000 } });
    const withDeadline = await run(() => kit.request({ method: 'GET', path: '/', signal: signalUntil(performance.now() + deadlineMs) }), calls);
    const naive = await run(async () => (await fetch(server.url)).text(), calls / 2);
    await kit.close();
    await server.close();
    const kitSummary = summarize(withDeadline);
    const naiveSummary = summarize(naive);
    const rows: Row[] = [];
    for (const [variant, s] of [['kit client, 200 ms deadline', kitSummary], ['naive fetch, no deadline', naiveSummary]] as const) {
      rows.push({ variant, metric: 'p50', value: s.p50Ms, unit: 'ms' }, { variant, metric: 'p99', value: s.p99Ms, unit: 'ms' }, { variant, metric: 'max', value: s.maxMs, unit: 'ms' });
    }
    rows.push({ variant: 'kit client', metric: 'p99 / deadline', value: kitSummary.p99Ms / deadlineMs, unit: '×', note: 'target ≈ 1' });
    rows.push({ variant: 'kit client', metric: `calls later than deadline + 50 ms`, value: withDeadline.filter((ms) => ms > deadlineMs + 50).length, unit: 'calls', note: 'target 0' });
    rows.push({ variant: 'naive fetch', metric: 'p99 / deadline', value: naiveSummary.p99Ms / deadlineMs, unit: '×' });
    return rows;
  },
};
