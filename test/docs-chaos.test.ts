import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { scenarios } from '@baton/chaos';

void test('docs/chaos.md\'s table names exactly the scenarios npm run chaos runs', async () => {
  const doc = await readFile(new URL('../docs/chaos.md', import.meta.url), 'utf8');
  const table = doc.slice(doc.indexOf('## The scenarios'), doc.indexOf('## Faults on the wire'));
  const named = [...table.matchAll(/^\| `([a-z0-9-]+)` \|/gm)].map((match) => match[1]);
  assert.deepEqual(named.toSorted(), scenarios.map((s) => s.name).toSorted());
});
