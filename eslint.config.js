// One lint config for the whole repo. Type-aware rules catch the mistakes that matter
// most in Baton: promises nobody awaits, and errors swallowed by accident.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

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
    // The places that are allowed to read the environment: config loading, the dev runner and tests.
    files: ['packages/kit/src/config/**', 'services/*/src/config.ts', 'packages/runner/**', 'packages/local-postgres/**', '**/*.test.ts', '**/test/**', 'packages/kit/src/testing/**', 'bench/**'],
    rules: { 'no-restricted-properties': 'off' },
  },
  { files: ['**/*.js'], languageOptions: { globals: globals.node } },
);
