import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createPowerOfTwoChoices, createRoundRobin } from './balancer.ts';

// A random source that replays a fixed sequence.
const sequence = (...values: number[]) => {
  let i = 0;
  return () => values[i++ % values.length] ?? 0;
};

void describe('power of two choices', () => {
  void test('of the two drawn, the one with fewer calls in flight wins; a tie goes to the lower latency', () => {
    const a = { name: 'a', outstanding: 3, ewmaLatencyMs: 1 };
    const b = { name: 'b', outstanding: 1, ewmaLatencyMs: 50 };
    const c = { name: 'c', outstanding: 1, ewmaLatencyMs: 5 };
    // Draws index 0 (a) then, among the other two, index 0 (b).
    assert.equal(createPowerOfTwoChoices({ random: sequence(0, 0) })([a, b, c]), b);
    // Draws b (index 1), then c (second draw 0.9 → index 1 of the others, which is c).
    assert.equal(createPowerOfTwoChoices({ random: sequence(0.4, 0.9) })([a, b, c]), c);
  });

  void test('never draws the same instance twice, and handles zero or one', () => {
    const pick = createPowerOfTwoChoices();
    assert.equal(pick([]), undefined);
    const only = { outstanding: 9, ewmaLatencyMs: 9 };
    assert.equal(pick([only]), only);
    const busy = { outstanding: 5, ewmaLatencyMs: 0 };
    const idle = { outstanding: 0, ewmaLatencyMs: 0 };
    // With two instances both are always drawn, so the idle one always wins.
    for (let i = 0; i < 100; i++) assert.equal(pick([busy, idle]), idle);
  });

  void test('spreads load: the least loaded of many is chosen far more often than its share', () => {
    const pick = createPowerOfTwoChoices();
    const instances = Array.from({ length: 10 }, (_, i) => ({ outstanding: i, ewmaLatencyMs: 0 }));
    let idleChosen = 0;
    for (let i = 0; i < 1_000; i++) if (pick(instances) === instances[0]) idleChosen++;
    // Chosen whenever drawn: about 2 / 10 of the time, against 1 / 10 for a blind choice.
    assert.ok(idleChosen > 150, `the idle instance was chosen ${idleChosen} times`);
    assert.ok(instances.every((instance, i) => i === 9 || pick([instance, instances[9]!]) === instance));
  });
});

void describe('round robin', () => {
  void test('takes each in turn', () => {
    const pick = createRoundRobin();
    const list = [{ outstanding: 0, ewmaLatencyMs: 0, n: 1 }, { outstanding: 9, ewmaLatencyMs: 9, n: 2 }];
    assert.deepEqual([pick(list), pick(list), pick(list)].map((x) => x?.n), [1, 2, 1]);
  });
});
