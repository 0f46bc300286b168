import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Row } from '../bench/harness/report.ts';
import { checkoutVsBare } from '../bench/scenarios/checkout-vs-bare.ts';

// checkout-vs-bare's verdict, read off its ratio rows as a run writes them: a target holds with a
// margin only when its 95% interval is inside, at its edge when only the median is.
const loads = ['C=16, hot product', 'C=16, spread products', 'C=4, hot product', 'C=4, spread products'];

interface Ratios { pairs: number; pairsLow: number; cpu: number; cpuHigh: number; p99: number }
const comfortable: Ratios = { pairs: 0.95, pairsLow: 0.9, cpu: 1.2, cpuHigh: 1.3, p99: 1.1 };

function rowsWith(changes: Partial<Record<string, Partial<Ratios>>> = {}): Row[] {
  return loads.flatMap((load) => {
    const ratios = { ...comfortable, ...changes[load] };
    const variant = `${load}, Baton / bare`;
    return [
      { variant, metric: 'pairs/s ratio', value: ratios.pairs, unit: '×' },
      { variant, metric: 'pairs/s ratio, 95% low', value: ratios.pairsLow, unit: '×' },
      { variant, metric: 'Node CPU per pair ratio', value: ratios.cpu, unit: '×' },
      { variant, metric: 'Node CPU per pair ratio, 95% high', value: ratios.cpuHigh, unit: '×' },
      { variant, metric: 'order p99 ratio', value: ratios.p99, unit: '×' },
    ];
  });
}

const summary = (rows: Row[]) => checkoutVsBare.summary?.(rows) ?? '';

test('every interval inside its target: holds with a margin, and the last line is the headline (C=16, hot)', () => {
  const lines = summary(rowsWith({ 'C=16, hot product': { cpu: 1.27, pairs: 0.91 } })).split('\n');
  assert.match(lines.at(-3) ?? '', /^Every target holds with a margin/);
  assert.equal(lines.at(-1), 'checkout-vs-bare: cpu ratio 1.27, pairs/s ratio 0.91');
});

test('a median inside but its interval across the target: at its edge, naming the ratio', () => {
  const text = summary(rowsWith({ 'C=4, spread products': { pairs: 0.88, pairsLow: 0.82 } }));
  assert.match(text, /Every target holds at its edge: .*\(C=4, spread products pairs\/s\)/);
});

test('a median outside a target, or an order p99 over 1.3× at C=4, is not met, each named', () => {
  const text = summary(rowsWith({ 'C=16, spread products': { cpu: 1.55, cpuHigh: 1.6 }, 'C=4, hot product': { p99: 1.38 } }));
  assert.match(text, /Targets not met: C=16, spread products Node CPU per pair 1\.55; C=4, hot product order p99 1\.38\./);
});

test('order p99 is held to its target at C=4 only', () => {
  assert.match(summary(rowsWith({ 'C=16, hot product': { p99: 1.6 } })), /Every target holds with a margin/);
});

test('a ratio the run could not give (NaN) is not met, never read as holding', () => {
  assert.match(summary(rowsWith({ 'C=16, hot product': { pairs: Number.NaN } })), /Targets not met: C=16, hot product pairs\/s NaN/);
});
