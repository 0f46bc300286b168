import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

// docs/api.md is a walk through the API with curl. Its commands are run here as written, in
// order, in one bash, against a shop (test/e2e/shop.test.ts's, whose STAFF_EMAILS names the
// page's staff@example.com); what each block prints is held against the answer
// the page shows under it: the same members (and those of a list's first item), and the same
// `code` for an error. Values (ids, tokens, dates) differ from run to run and are not compared.

interface Step { commands: string; shown: Record<string, unknown> | undefined }

async function steps(): Promise<Step[]> {
  const page = await readFile(join(repoRoot, 'docs', 'api.md'), 'utf8');
  const blocks = [...page.matchAll(/```(sh|json)\n([\s\S]*?)```/g)].map((m) => ({ kind: m[1]!, text: m[2]! }));
  const found: Step[] = [];
  for (const [i, block] of blocks.entries()) {
    if (block.kind !== 'sh') continue;
    const next = blocks[i + 1];
    // The page's samples shorten ids and tokens with …; they are still JSON once those are strings.
    found.push({ commands: block.text, shown: next?.kind === 'json' ? JSON.parse(next.text) as Record<string, unknown> : undefined });
  }
  return found;
}

/** The last line of a block's output that is a JSON object: what its last command answered. */
function lastJson(output: string): Record<string, unknown> | undefined {
  for (const line of output.trim().split('\n').toReversed()) {
    try {
      const parsed: unknown = JSON.parse(line);
      if (typeof parsed === 'object' && parsed !== null) return parsed as Record<string, unknown>;
    } catch {
      // not JSON: a status code printed by -w, say
    }
  }
  return undefined;
}

const keys = (value: unknown) => (typeof value === 'object' && value !== null ? Object.keys(value).toSorted() : []);

/** Runs docs/api.md's commands against the shop at `gateway` and holds each answer against the page's. */
export async function checkApiWalkthrough(t: TestContext, gateway: string): Promise<void> {
  for (const tool of ['curl', 'jq', 'bash']) {
    if (spawnSync(tool, ['--version']).status !== 0) {
      if (process.env.CI === 'true') assert.fail(`${tool} is required under CI=true: the page's commands use it`);
      t.skip(`${tool} is not installed: the page's commands need it`);
      return;
    }
  }
  const all = await steps();
  assert.ok(all.length >= 10, `the page's commands were read: ${all.length}`);
  assert.equal(all[0]?.commands.trim(), 'BASE=http://127.0.0.1:8080/api/v1', 'the page starts where npm start serves');
  // The page's first block says where npm start serves; this shop is elsewhere.
  const script = ['set -euo pipefail', ...all.map((step, i) => `echo; echo "@@step ${i}@@"\n${i === 0 ? `BASE=${gateway}/api/v1` : step.commands}`)].join('\n');
  const bash = spawn('bash', ['-c', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  bash.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString(); });
  bash.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
  const code = await new Promise<number | null>((resolve) => bash.once('exit', resolve));
  assert.equal(code, 0, `the page's commands ran: ${stderr}\n${stdout.slice(-2_000)}`);

  const outputs = stdout.split(/^@@step (\d+)@@\n/m);
  for (const [i, step] of all.entries()) {
    if (step.shown === undefined) continue;
    const at = outputs.indexOf(String(i));
    const actual = lastJson(outputs[at + 1] ?? '');
    assert.ok(actual, `step ${i} printed an answer:\n${step.commands}\n${outputs[at + 1]}`);
    assert.deepEqual(keys(actual), keys(step.shown), `step ${i}'s members are the page's:\n${step.commands}\n${JSON.stringify(actual)}`);
    if ('code' in step.shown) assert.equal(actual.code, step.shown.code, `step ${i}'s code`);
    if ('status' in step.shown && typeof step.shown.status !== 'object') assert.equal(actual.status, step.shown.status, `step ${i}'s status`);
    const [shownFirst] = Array.isArray(step.shown.items) ? step.shown.items : [];
    const [actualFirst] = Array.isArray(actual.items) ? actual.items : [];
    if (shownFirst !== undefined) assert.deepEqual(keys(actualFirst), keys(shownFirst), `step ${i}'s first item's members`);
    const session = step.shown.session;
    if (session !== undefined) assert.deepEqual(keys(actual.session), keys(session), `step ${i}'s session's members`);
  }
}
