import { createBulkhead, createCircuitBreaker, createRetry, createRetryBudget, createTimeout, wrap } from '../../packages/kit/src/resilience/index.ts';
import type { Scenario } from '../harness/report.ts';
import { median } from '../harness/stats.ts';

const iterations = 200_000;
const rounds = 5;

export const policyStack: Scenario = {
  name: 'policy-stack',
  description: `The cost per call of the full policy stack, wrap(bulkhead, retry with budget, circuit breaker, timeout), around an async function that resolves at once, vs calling the function directly; and what a call refused by an open breaker costs: ${iterations} sequential calls per round, ${rounds} interleaved rounds, median.`,
  target: '≤ 2 µs added per call',
  async run() {
    const work = async () => 1;
    const stack = wrap(createBulkhead({ maxConcurrent: 1_000 }), createRetry({ budget: createRetryBudget() }), createCircuitBreaker(), createTimeout(1_000));
    const signal = new AbortController().signal;
    const timeNs = async (call: () => Promise<unknown>) => {
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < iterations; i++) await call();
      return Number(process.hrtime.bigint() - t0) / iterations;
    };
    const bare: number[] = [];
    const wrapped: number[] = [];
    await timeNs(work);
    await timeNs(() => stack.execute(work, signal));
    for (let round = 0; round < rounds; round++) {
      bare.push(await timeNs(work));
      wrapped.push(await timeNs(() => stack.execute(work, signal)));
    }
    const addedUs = (median(wrapped) - median(bare)) / 1_000;

    // An open circuit: what a refused call costs, with no network behind it to wait for.
    const open = createCircuitBreaker({ consecutiveFailures: 1, openDurationMs: 3_600_000 });
    await open.execute(async () => { throw new Error('down'); }).catch(() => undefined);
    const refuse = () => open.execute(work).catch(() => undefined);
    await timeNs(refuse);
    const refusedRounds: number[] = [];
    for (let round = 0; round < rounds; round++) refusedRounds.push(await timeNs(refuse));
    const refusedNs = median(refusedRounds);
    return [
      { variant: 'open circuit breaker', metric: 'time per refused call', value: refusedNs / 1_000, unit: 'µs', note: 'target: well under 1 ms' },
      { variant: 'direct call', metric: 'time per call', value: median(bare), unit: 'ns' },
      { variant: 'policy stack', metric: 'time per call', value: median(wrapped), unit: 'ns' },
      { variant: 'policy stack − direct', metric: 'added per call', value: addedUs, unit: 'µs', note: 'target ≤ 2' },
    ];
  },
};
