import { test } from 'node:test';
import assert from 'node:assert/strict';
import { type Policy, type PolicyContext, wrap } from './policy.ts';

// A policy that records when it runs and hands the function its own signal and attempt.
function recordingPolicy(name: string, log: string[], attempt = 1): Policy & { signals: AbortSignal[] } {
  const signals: AbortSignal[] = [];
  return {
    signals,
    async execute<T>(fn: (context: PolicyContext) => Promise<T>, signal?: AbortSignal): Promise<T> {
      log.push(`${name}:in`);
      if (signal !== undefined) signals.push(signal);
      const own = new AbortController();
      try {
        return await fn({ signal: own.signal, attempt });
      } finally {
        log.push(`${name}:out`);
      }
    },
  };
}

void test('wrap runs the policies outermost first and gives each the signal of the layer above', async () => {
  const log: string[] = [];
  const outer = recordingPolicy('outer', log);
  const inner = recordingPolicy('inner', log);
  const caller = new AbortController();
  let seen: PolicyContext | undefined;
  const result = await wrap(outer, inner).execute(async (context) => {
    seen = context;
    log.push('fn');
    return 42;
  }, caller.signal);
  assert.equal(result, 42);
  assert.deepEqual(log, ['outer:in', 'inner:in', 'fn', 'inner:out', 'outer:out']);
  assert.equal(outer.signals[0], caller.signal);
  assert.notEqual(inner.signals[0], caller.signal, 'the inner policy gets the outer policy’s signal, not the caller’s');
  assert.ok(seen !== undefined && seen.signal !== caller.signal);
});

void test('wrap reports the highest attempt any layer reports', async () => {
  const log: string[] = [];
  let attempt = 0;
  await wrap(recordingPolicy('retry', log, 3), recordingPolicy('timeout', log)).execute(async (context) => {
    attempt = context.attempt;
  });
  assert.equal(attempt, 3);
});

void test('wrap with no policies calls the function once with attempt 1 and a live signal', async () => {
  let context: PolicyContext | undefined;
  await wrap().execute(async (c) => {
    context = c;
  });
  assert.equal(context?.attempt, 1);
  assert.equal(context?.signal.aborted, false);
});
