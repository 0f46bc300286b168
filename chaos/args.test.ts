import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hostScenarios, scenarios } from '@baton/chaos';
import { parseChaosArgs } from './args.ts';

void test('npm run chaos\'s options: every scenario by default; named ones, repeated or comma-separated, in the catalogue\'s order', () => {
  const all = parseChaosArgs([]);
  assert.ok(all.ok);
  assert.deepEqual(all.args.scenarios.map((s) => s.name), scenarios.map((s) => s.name));
  assert.deepEqual(all.args.hosts.map((s) => s.name), hostScenarios.map((s) => s.name), 'the multi-host proof too');
  assert.equal(all.args.short, false);

  const some = parseChaosArgs(['--scenario', 'slow-payment,kill-orders', '--scenario', 'kill-inventory', '--short']);
  assert.ok(some.ok);
  assert.deepEqual(some.args.scenarios.map((s) => s.name), scenarios.map((s) => s.name).filter((n) => ['kill-inventory', 'kill-orders', 'slow-payment'].includes(n)));
  assert.deepEqual(some.args.hosts, [], 'no multi-host scenario named, no multi-host proof');
  assert.equal(some.args.short, true);

  const wire = parseChaosArgs(['--scenario', 'partition-inventory']);
  assert.ok(wire.ok);
  assert.deepEqual([wire.args.scenarios.length, wire.args.hosts.map((s) => s.name)], [0, ['partition-inventory']]);
});

void test('an unknown scenario or option is a problem that names what is known, never a run of something else', () => {
  const unknown = parseChaosArgs(['--scenario', 'kill-inventory,kill-everything']);
  assert.equal(unknown.ok, false);
  assert.match(!unknown.ok ? unknown.problem : '', /no scenario kill-everything; known: kill-inventory, /);
  const option = parseChaosArgs(['--shrot']);
  assert.equal(option.ok, false);
  assert.match(!option.ok ? option.problem : '', /--shrot/);
});
