import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createPowerOfTwoChoices, createRoundRobin } from './balancer.ts';

// A random source that replays a fixed sequence.
const sequence = (...values: number[]) => {
  let i = 0;
  return () => values[i++ % values.length] ?? 0;
};

// A clock that stays where a test puts it.
const clockAt = (nowMs: number) => ({ now: () => nowMs, sleep: () => Promise.resolve() });

void describe('power of two choices', () => {
  void test('of the two drawn, the cheaper wins: latency × (calls in flight + 1)', () => {
    const a = { name: 'a', outstanding: 3, ewmaLatencyMs: 10 }; // 40
    const b = { name: 'b', outstanding: 0, ewmaLatencyMs: 50 }; // 50
    const c = { name: 'c', outstanding: 1, ewmaLatencyMs: 5 }; // 10
    // Draws index 0 (a) then, among the other two, index 0 (b): a, for all its calls in flight.
    assert.equal(createPowerOfTwoChoices({ random: sequence(0, 0) })([a, b, c]), a);
    // Draws b (index 1), then c (second draw 0.9 → index 1 of the others, which is c).
    assert.equal(createPowerOfTwoChoices({ random: sequence(0.4, 0.9) })([a, b, c]), c);
  });

  void test('an idle instance that made its last caller wait out a timeout loses to a busy healthy one', () => {
    // The partition of test/hosts: the silent instance has nothing in flight between calls.
    const silent = { outstanding: 0, ewmaLatencyMs: 3_000, latencyAtMs: 1_000 };
    const healthy = { outstanding: 4, ewmaLatencyMs: 5, latencyAtMs: 1_000 };
    const pick = createPowerOfTwoChoices({ clock: clockAt(2_000) });
    for (let i = 0; i < 50; i++) assert.equal(pick([silent, healthy]), healthy);
  });

  void test('an unrefreshed latency fades, so the instance it keeps out is tried again', () => {
    const once = { outstanding: 0, ewmaLatencyMs: 3_000, latencyAtMs: 0 };
    const steady = { outstanding: 0, ewmaLatencyMs: 5, latencyAtMs: 60_000 };
    // 10 s on: 3000 × e^-1 ≈ 1104 ms, still the dearer.
    assert.equal(createPowerOfTwoChoices({ clock: clockAt(10_000), latencyDecayMs: 10_000 })([once, steady]), steady);
    // A minute on: 3000 × e^-6 ≈ 7.4 ms; two calls in flight make the steady one 15.
    const busy = { ...steady, outstanding: 2 };
    assert.equal(createPowerOfTwoChoices({ clock: clockAt(60_000), latencyDecayMs: 10_000 })([once, busy]), once);
  });

  void test('never draws the same instance twice, and handles zero or one', () => {
    const pick = createPowerOfTwoChoices();
    assert.equal(pick([]), undefined);
    const only = { outstanding: 9, ewmaLatencyMs: 9 };
    assert.equal(pick([only]), only);
    // Neither has answered yet: calls in flight still count.
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
