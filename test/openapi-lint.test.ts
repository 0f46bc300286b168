import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createTempDir } from '@baton/kit/testing';
import { gatewayApiDocument } from './support/api-statuses.ts';

const root = join(import.meta.dirname, '..');

interface LintReport {
  totals: { errors: number; warnings: number };
  problems: Array<{ ruleId: string; message: string; location?: Array<{ pointer?: string }> }>;
}

/** Redocly's lint of a document, with the project's rules (redocly.yaml), as its JSON report. */
async function lint(t: TestContext, document: unknown): Promise<LintReport & { stderr: string }> {
  const file = join(await createTempDir(t, 'openapi-lint-'), 'openapi.json');
  await writeFile(file, JSON.stringify(document));
  const answer = await promisify(execFile)(join(root, 'node_modules/.bin/redocly'), ['lint', file, '--config', join(root, 'redocly.yaml'), '--format', 'json'], {
    cwd: root,
    // Nothing leaves this machine: no usage report, no check for a newer version.
    env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true', REDOCLY_SUPPRESS_NOTIFICATIONS: 'true' },
  }).catch((failed: { stdout?: string; stderr?: string }) => ({ stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' }));
  return { ...JSON.parse(answer.stdout) as LintReport, stderr: answer.stderr };
}

test('the public API\'s OpenAPI document passes the Redocly lint, without a warning', async (t) => {
  const report = await lint(t, await gatewayApiDocument());
  const problems = report.problems.map((p) => `${p.ruleId} at ${p.location?.[0]?.pointer ?? '?'}: ${p.message}`);
  assert.deepEqual({ errors: report.totals.errors, warnings: report.totals.warnings }, { errors: 0, warnings: 0 }, `${problems.join('\n')}\n${report.stderr}`);
});

test('the lint finds what breaks its rules, so the check above can fail: an operation without security, an example its schema refuses', async (t) => {
  const document = await gatewayApiDocument() as unknown as {
    paths: Record<string, Record<string, { security?: unknown; responses: Record<string, { content?: Record<string, { examples?: Record<string, { value: Record<string, unknown> }> }> }> }>>;
  };
  delete document.paths['/api/v1/auth/login']!.post!.security;
  document.paths['/api/v1/orders']!.post!.responses['409']!.content!['application/problem+json']!.examples!.out_of_stock!.value.code = 'no_such_code';
  const rules = new Set((await lint(t, document)).problems.map((p) => p.ruleId));
  assert.ok(rules.has('security-defined'), [...rules].join(', '));
  assert.ok(rules.has('no-invalid-media-type-examples'), [...rules].join(', '));
});
