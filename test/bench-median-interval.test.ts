import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatInterval, medianInterval } from '../bench/harness/stats.ts';

// 1..n in an order that is not sorted: the interval is of ranks, whatever order the rounds ran in.
const ranks = (n: number) => Array.from({ length: n }, (_, i) => ((i * 37) % n) + 1);

test('the 95% interval of a median is the pair of order statistics the binomial tables give', () => {
  // n = 100: the 40th and 61st smallest, as printed in tables of the sign test; the others
  // from P(Binomial(n, ½) ≤ k - 1) ≤ 0.025 < P(Binomial(n, ½) ≤ k), summed apart from this code.
  assert.deepEqual(medianInterval(ranks(100)), { low: 40, high: 61 });
  assert.deepEqual(medianInterval(ranks(61)), { low: 23, high: 39 });
  assert.deepEqual(medianInterval(ranks(121)), { low: 50, high: 72 });
  assert.deepEqual(medianInterval(ranks(6)), { low: 1, high: 6 });
});

test('too few values for any 95% interval give NaN, not a narrower claim', () => {
  const { low, high } = medianInterval(ranks(5));
  assert.ok(Number.isNaN(low) && Number.isNaN(high));
});

test('a lower confidence gives a narrower interval of the same values', () => {
  const wide = medianInterval(ranks(61), 0.99);
  const narrow = medianInterval(ranks(61), 0.8);
  assert.ok(wide.low < 23 && wide.high > 39, `99%: ${JSON.stringify(wide)}`);
  assert.ok(narrow.low > 23 && narrow.high < 39, `80%: ${JSON.stringify(narrow)}`);
});

test('many values (a set of calls, not of rounds) give the ranks of the normal approximation', () => {
  // n = 20,000: n/2 ± 1.96·√n/2 ≈ 9,861 and 10,139; the exact binomial ranks are within one of those.
  const { low, high } = medianInterval(ranks(20_001));
  assert.ok(Math.abs(low - 9_862) <= 1 && Math.abs(high - 10_140) <= 1, JSON.stringify({ low, high }));
});

test('a report gives an interval to three places, with its confidence', () => {
  assert.equal(formatInterval({ low: 0.91749, high: 0.9251 }), '95% interval 0.917-0.925');
  assert.equal(formatInterval({ low: 1, high: 2 }, 0.99), '99% interval 1.000-2.000');
});
