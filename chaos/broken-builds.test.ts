import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { scenarios } from '@baton/chaos';
import { repoRoot } from '@baton/runner';
import { brokenBuilds } from './broken-builds.ts';

void test('every broken build still applies to this tree (its text is there, once) and names a scenario and checks that exist', async () => {
  for (const broken of brokenBuilds) {
    const text = await readFile(new URL(broken.edit.file, `file://${repoRoot}`), 'utf8');
    assert.equal(text.split(broken.edit.find).length - 1, 1, `${broken.name}: "${broken.edit.find}" in ${broken.edit.file}`);
    assert.ok(scenarios.some((s) => s.name === broken.scenario), `${broken.name}: no scenario ${broken.scenario}`);
    assert.ok(broken.fails.length > 0);
  }
});
