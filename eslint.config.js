// One lint config for the whole repo. Type-aware rules catch the mistakes that matter
// most in Baton: promises nobody awaits, and errors swallowed by accident.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

// Test helpers (fake clock, fixtures, test databases) are for tests. A production file that
// imports them loads test code into a service, and breaks as soon as a helper changes for a test.
const testingOnly = 'Test helpers are for tests: import @baton/kit/testing only from *.test.ts files, test/, bench/, chaos/, or a service\'s test support.';
const testingImports = [
  { regex: '^@baton/kit/(testing/|src/testing(/|$))', message: testingOnly },
  { regex: '(^|/)kit/src/testing(/|$)', message: testingOnly },
];
const noTestingImports = (...patterns) => ['error', { paths: [{ name: '@baton/kit/testing', message: testingOnly }], patterns: [...testingImports, ...patterns] }];
// Test code that is not a *.test.ts file: test/, bench/, chaos/ (the proofs), the testing folder
// itself, a service's test support, and the suite the NATS and RabbitMQ tests share.
const testCode = ['**/*.test.ts', 'test/**', 'bench/**', 'chaos/**', 'packages/kit/src/testing/**', 'services/**/test/**', 'services/**/support/**', 'packages/kit/src/messaging/transports/transport-suite.ts'];

export default tseslint.config(
  { ignores: ['**/node_modules/**', 'var/**', 'bench/results/**', '**/gen/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: {
      globals: globals.node,
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // node:test's test() and describe() return promises the runner itself awaits.
      '@typescript-eslint/no-floating-promises': ['error', {
        allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['test', 'describe', 'it', 'suite'] }],
      }],
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-properties': ['error', {
        object: 'process', property: 'env',
        message: 'Read configuration once, in the service config.ts, through loadConfig().',
      }],
    },
  },
  {
    // The places that are allowed to read the environment: config loading, the dev runner, the chaos command and tests.
    files: ['packages/kit/src/config/**', 'services/*/src/config.ts', 'packages/runner/**', 'packages/local-postgres/**', '**/*.test.ts', '**/test/**', 'packages/kit/src/testing/**', 'bench/**', 'chaos/main.ts', 'chaos/prove-verdicts.ts'],
    rules: { 'no-restricted-properties': 'off' },
  },
  { files: ['**/*.ts'], ignores: testCode, rules: { 'no-restricted-imports': noTestingImports() } },
  {
    // Inside the kit a relative path reaches the testing folder too (`../testing/index.ts`).
    files: ['packages/kit/src/**/*.ts'],
    ignores: testCode,
    rules: { 'no-restricted-imports': noTestingImports({ regex: '^(\\.\\./)+testing(/|$)', message: testingOnly }) },
  },
  { files: ['**/*.js'], languageOptions: { globals: globals.node } },
  // The storefront's script and the console's page run in a browser, not in Node.
  { files: ['services/gateway/src/storefront/assets/*.js', 'packages/console/web/*.js'], languageOptions: { globals: globals.browser } },
);
