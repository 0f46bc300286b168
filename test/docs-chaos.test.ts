import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { hostScenarios, scenarios } from '@baton/chaos';

void test('docs/chaos.md\'s tables name exactly the scenarios npm run chaos runs', async () => {
  const doc = await readFile(new URL('../docs/chaos.md', import.meta.url), 'utf8');
  const table = doc.slice(doc.indexOf('## The scenarios'), doc.indexOf('## Each verdict can fail'));
  const named = [...table.matchAll(/^\| `([a-z0-9-]+)` \|/gm)].map((match) => match[1]);
  assert.deepEqual(named.toSorted(), [...scenarios, ...hostScenarios].map((s) => s.name).toSorted());
});

void test('docs/chaos.md\'s table of broken builds is chaos/broken-builds.ts\'s: each name, its scenario and the check that must fail', async () => {
  const { brokenBuilds } = await import('../chaos/broken-builds.ts');
  const doc = await readFile(new URL('../docs/chaos.md', import.meta.url), 'utf8');
  const table = doc.slice(doc.indexOf('## Each verdict can fail'), doc.indexOf('## The multi-host proof'));
  const rows = [...table.matchAll(/^\| `([a-z0-9-]+)` \| [^|]+ \| `([a-z0-9-]+)` \| ([^|]+) \|$/gm)].map((m) => ({ name: m[1], scenario: m[2], fails: m[3]!.trim() }));
  assert.deepEqual(rows, brokenBuilds.map((b) => ({ name: b.name, scenario: b.scenario, fails: b.fails.join(', ') })));
});
