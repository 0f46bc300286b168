import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { policyDefaults } from '../packages/kit/src/resilience/defaults.ts';

// docs/resilience.md shows every default of the outbound policies as a table; this keeps the
// table and `policyDefaults` saying the same, both ways.

function flatten(value: unknown, prefix = ''): Map<string, number> {
  const out = new Map<string, number>();
  for (const [key, inner] of Object.entries(value as Record<string, unknown>)) {
    const path = prefix === '' ? key : `${prefix}.${key}`;
    if (typeof inner === 'number') out.set(path, inner);
    else for (const [k, v] of flatten(inner, path)) out.set(k, v);
  }
  return out;
}

test('docs/resilience.md lists every default of policyDefaults, with its value, and nothing else', async () => {
  const text = await readFile(new URL('../docs/resilience.md', import.meta.url), 'utf8');
  const section = text.slice(text.indexOf('## The defaults, in one place'));
  const documented = new Map<string, number>();
  for (const match of section.matchAll(/^\| `([a-zA-Z.]+)` \| ([0-9.]+) \|/gm)) documented.set(match[1] as string, Number(match[2]));
  assert.deepEqual(Object.fromEntries(documented), Object.fromEntries(flatten(policyDefaults)));
});
