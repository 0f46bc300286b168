import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { httpStatusByReason } from '@baton/kit/errors';
import { documentedReasonRows } from './support/error-docs.ts';

const repoRoot = fileURLToPath(new URL('../', import.meta.url));

// docs/errors.md promises a client every reason it may branch on. A reason the code sends that
// the page does not list is a promise broken without a word, so the reasons are read from the
// source itself, not from a list kept beside it.

/** Every non-test TypeScript file of the packages and services. */
async function sourceFiles(): Promise<string[]> {
  const roots = [
    ...(await readdir(join(repoRoot, 'packages'))).map((name) => join(repoRoot, 'packages', name, 'src')),
    ...(await readdir(join(repoRoot, 'services'))).map((name) => join(repoRoot, 'services', name, 'src')),
  ];
  const files: string[] = [];
  for (const root of roots) {
    const entries = await readdir(root, { recursive: true, withFileTypes: true }).catch(() => []);
    for (const entry of entries) {
      const path = join(entry.parentPath, entry.name);
      if (!entry.isFile() || !entry.name.endsWith('.ts') || entry.name.endsWith('.test.ts')) continue;
      if (/(^|\/)(test|testing|fixtures)\//.test(relative(root, path))) continue;
      files.push(path);
    }
  }
  return files;
}

/**
 * The reasons a KitError can be given in the source: `reason: 'out_of_stock'`, and both sides of
 * `reason: cond ? 'reservation_released' : 'reservation_expired'`. A union type
 * (`reason: 'shutdown' | 'config_error'`) is a type, not an error, and is left out.
 */
async function reasonsInSource(): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  for (const file of await sourceFiles()) {
    const text = await readFile(file, 'utf8');
    const where = relative(repoRoot, file);
    for (const match of text.matchAll(/\breason:\s*'([a-z][a-z0-9_]*)'(?!\s*\|)/g)) found.set(match[1]!, where);
    for (const match of text.matchAll(/\breason:\s*[^\n,?]+\?\s*'([a-z][a-z0-9_]*)'\s*:\s*'([a-z][a-z0-9_]*)'/g)) {
      found.set(match[1]!, where);
      found.set(match[2]!, where);
    }
  }
  return found;
}

test('every reason the code can send is in docs/errors.md, with its code', async () => {
  const inSource = await reasonsInSource();
  // The collector itself must work: a plain reason, a multi-line one and both sides of a ternary.
  for (const known of ['database_unavailable', 'keys_unavailable', 'reservation_released', 'reservation_expired']) {
    assert.ok(inSource.has(known), `the source scan finds ${known}`);
  }
  const rows = await documentedReasonRows();
  const documented = new Set(rows.flatMap((row) => row.reasons));
  const missing = [...inSource].filter(([reason]) => !documented.has(reason)).map(([reason, where]) => `${reason} (${where})`);
  assert.deepEqual(missing, [], 'reasons the code sends that docs/errors.md does not list');
  for (const row of rows) {
    assert.match(row.cells[1] ?? '', /^(`[a-z_]+`|any)$/, `the row of ${row.reasons.join(', ')} names the code`);
    assert.ok((row.cells[2] ?? '') !== '', `the row of ${row.reasons.join(', ')} says when (or its status)`);
  }
});

test('docs/errors.md lists no reason the code has stopped sending, and the statuses it gives are the table\'s', async () => {
  const inSource = await reasonsInSource();
  const rows = await documentedReasonRows();
  const stale = rows.flatMap((row) => row.reasons).filter((reason) => !inSource.has(reason) && !(reason in httpStatusByReason));
  assert.deepEqual(stale, [], 'documented reasons found nowhere in the source');
  for (const [reason, status] of Object.entries(httpStatusByReason)) {
    const row = rows.find((r) => r.reasons.includes(reason));
    assert.ok(row, `${reason}, which sharpens the HTTP status, is documented`);
    assert.equal(row.cells[2], String(status), `${reason} is documented as ${status}, as http-status.ts answers it`);
  }
});
