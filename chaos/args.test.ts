import { test } from 'node:test';
import assert from 'node:assert/strict';
import { scenarios } from '@baton/chaos';
import { parseChaosArgs } from './args.ts';

void test('npm run chaos\'s options: every scenario by default; named ones, repeated or comma-separated, in the catalogue\'s order', () => {
  const all = parseChaosArgs([]);
  assert.ok(all.ok);
  assert.deepEqual(all.args.scenarios.map((s) => s.name), scenarios.map((s) => s.name));
  assert.equal(all.args.short, false);

  const some = parseChaosArgs(['--scenario', 'slow-payment,kill-orders', '--scenario', 'kill-inventory', '--short']);
  assert.ok(some.ok);
  assert.deepEqual(some.args.scenarios.map((s) => s.name), scenarios.map((s) => s.name).filter((n) => ['kill-inventory', 'kill-orders', 'slow-payment'].includes(n)));
  assert.equal(some.args.short, true);
});

void test('an unknown scenario or option is a problem that names what is known, never a run of something else', () => {
  const unknown = parseChaosArgs(['--scenario', 'kill-inventory,kill-everything']);
  assert.equal(unknown.ok, false);
  assert.match(!unknown.ok ? unknown.problem : '', /no scenario kill-everything; known: kill-inventory, /);
  const option = parseChaosArgs(['--shrot']);
  assert.equal(option.ok, false);
  assert.match(!option.ok ? option.problem : '', /--shrot/);
});
