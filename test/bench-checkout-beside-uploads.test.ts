import { test } from 'node:test';
import assert from 'node:assert/strict';
import { machineCpuOf } from '../bench/harness/process-cpu.ts';
import { checkoutBesideUploads, sumUploads, summaryLine } from '../bench/scenarios/checkout-beside-uploads.ts';
import { growthOver, statusField } from '../bench/scenarios/checkout-beside-uploads/rss.ts';
import { megabytesPerSecond } from '../bench/scenarios/checkout-beside-uploads/uploaders.ts';

// checkout-beside-uploads' arithmetic, without a shop: what it reads from /proc and what it
// reports must be what its rows say. No timing is asserted here (bench/README.md).

const status = ['Name:\tnode', 'VmPeak:\t 1234568 kB', 'VmHWM:\t  500000 kB', 'VmRSS:\t  189440 kB', 'RssAnon:\t  120000 kB'].join('\n');

test('the scenario loads under its name', () => {
  assert.equal(checkoutBesideUploads.name, 'checkout-beside-uploads');
});

test("a /proc/<pid>/status field is read in bytes, the field asked and no other (VmRSS, not RssAnon's line)", () => {
  assert.equal(statusField(status, 'VmRSS'), 189_440 * 1024);
  assert.equal(statusField(status, 'VmHWM'), 500_000 * 1024);
  assert.equal(statusField(status, 'VmSwap'), undefined);
});

test('RSS growth is the largest sample less the baseline, never below 0', () => {
  assert.equal(growthOver(100, [100, 150, 130]), 50);
  assert.equal(growthOver(100, [90, 80]), 0);
  assert.equal(growthOver(100, []), 0);
});

test("the machine's CPU: busy is user, nice, system, irq and softirq; steal, idle and iowait apart", () => {
  // cpu  user nice system idle iowait irq softirq steal guest guest_nice
  const cpu = machineCpuOf('cpu  100 10 50 800 40 5 5 20 0 0\ncpu0 50 5 25 400 20 2 3 10 0 0\n');
  assert.equal(cpu.busyMs / cpu.idleMs, 170 / 800);
  assert.equal(cpu.stealMs / cpu.idleMs, 20 / 800);
  assert.equal(cpu.iowaitMs / cpu.idleMs, 40 / 800);
});

test("uploads are summed over rounds, and MB/s is 10^6 bytes a second over the uploaders' time", () => {
  const sum = sumUploads([
    { completed: 2, failed: 0, bytes: 96e6, seconds: 4, latenciesMs: [1, 2], refusals: [] },
    { completed: 1, failed: 1, bytes: 48e6, seconds: 2, latenciesMs: [3], refusals: ['413'] },
  ]);
  assert.deepEqual(sum, { completed: 3, failed: 1, bytes: 144e6, seconds: 6, latenciesMs: [1, 2, 3], refusals: ['413'] });
  assert.equal(megabytesPerSecond(sum), 24);
  assert.ok(Number.isNaN(megabytesPerSecond({ bytes: 0, seconds: 0 })));
});

test('the last line says both ratios and the growth, as the README quotes it', () => {
  assert.equal(summaryLine({ mediaRatio: 1.449, insideRatio: 3.5, mediaGrowthMb: 310.6 }), 'checkout-beside-uploads: p99 ratio with media 1.45, inside orders 3.50; media RSS +311 MB');
});
