import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ESLint } from 'eslint';
import { repoRoot } from '@baton/runner';

// The rule in eslint.config.js that keeps test helpers out of production code, run through
// ESLint's own API on snippets placed at the paths where it must and must not fire. The files
// do not exist, so they are parsed without type information; only the rule under test runs.
const eslint = new ESLint({
  cwd: repoRoot,
  overrideConfig: { languageOptions: { parserOptions: { projectService: false } } },
  ruleFilter: ({ ruleId }) => ruleId === 'no-restricted-imports',
});

/** The no-restricted-imports messages for `code` linted as the file at `filePath`, as `line: import`. */
async function restrictedImports(code: string, filePath: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  assert.ok(result, 'ESLint answers for the file');
  assert.deepEqual(result.messages.filter((message) => message.ruleId !== 'no-restricted-imports'), [], 'nothing but the rule, no parsing error');
  return result.messages.map((message) => `${message.line}: ${/'([^']+)'/.exec(message.message)?.[1] ?? message.message}`);
}

const usesTestingEntry = "import { createFakeClock } from '@baton/kit/testing';\nexport const clock = createFakeClock();\n";

test('a production file that imports @baton/kit/testing fails the lint', async () => {
  for (const filePath of ['services/orders/src/checkout/place-order-probe.ts', 'packages/kit/src/http/probe.ts', 'packages/runner/src/probe.ts']) {
    assert.deepEqual(await restrictedImports(usesTestingEntry, filePath), ['1: @baton/kit/testing'], filePath);
  }
});

test('a production file that reaches into the kit\'s testing folder by path fails the lint', async () => {
  assert.deepEqual(await restrictedImports(
    "import { createFakeClock } from '../../../../packages/kit/src/testing/fake-clock.ts';\nexport const clock = createFakeClock();\n",
    'services/orders/src/checkout/probe.ts',
  ), ['1: ../../../../packages/kit/src/testing/fake-clock.ts']);
  assert.deepEqual(await restrictedImports(
    "import { createFakeClock } from '../testing/index.ts';\nimport { startUpstream } from '../../testing/upstream-fixture.ts';\nexport const helpers = [createFakeClock, startUpstream];\n",
    'packages/kit/src/messaging/probe.ts',
  ), ['1: ../testing/index.ts', '2: ../../testing/upstream-fixture.ts']);
});

test('tests, test support, bench and the testing folder may import @baton/kit/testing', async () => {
  for (const filePath of [
    'services/orders/src/checkout/place-order-probe.test.ts',
    'services/orders/test/probe.test.ts',
    'services/users/test/support/probe.ts',
    'test/e2e/probe.ts',
    'bench/scenarios/probe.ts',
    'packages/kit/src/testing/probe.ts',
    'packages/kit/src/http/probe.test.ts',
  ]) {
    assert.deepEqual(await restrictedImports(usesTestingEntry, filePath), [], filePath);
  }
});

test('production imports of the kit\'s other entries pass', async () => {
  assert.deepEqual(await restrictedImports(
    "import { createHttpClient } from '@baton/kit/http';\nimport { wrap } from '../resilience/index.ts';\nexport const parts = [createHttpClient, wrap];\n",
    'packages/kit/src/service/probe.ts',
  ), []);
});
