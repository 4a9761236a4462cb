// Lint is part of `npm test`: typescript-eslint's recommended rules, plus the rules that keep
// workflow code deterministic and secrets out of logs.
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.lettuce/**', '.tools/**', 'coverage/**', '**/*.js', '**/*.mjs'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'off',
    },
  },
  {
    // Tests read loosely typed JSON responses.
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    // The browser bundle: types from src/ (the API's shapes) are welcome, code is not — it would
    // drag Node modules into the page; the one exception is the scope table, which imports nothing.
    files: ['web/src/**/*.ts', 'web/src/**/*.tsx'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [{ regex: '^\\.\\./\\.\\./src/(?!bitbucket/scopes$)', message: 'The web UI imports only types from src/ (import type).', allowTypeImports: true }],
      }],
    },
  },
  {
    // Workflow code runs in Temporal's deterministic sandbox: no Node built-ins, no I/O, no app
    // modules — except the failure vocabulary and the repo workflow's messages, which import nothing (see below).
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { group: ['../src/*', '../src/**', '!../src/failures', '!../src/repo-messages', 'typeorm', 'pg', 'koa', 'node:*', 'fs', 'child_process', 'crypto'],
            message: 'Workflow code must stay deterministic and bundle-safe.' },
          { group: ['../activities', '../activities/*'], message: 'Import activity types only (import type).', allowTypeImports: true },
        ],
      }],
    },
  },
  {
    // The failure vocabulary and the repo workflow's messages are shared by the workflows, the
    // activities and the API, at the bottom floor: they stay pure.
    files: ['src/failures.ts', 'src/repo-messages.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [{ group: ['*'], message: 'This module is bundled into workflow code: it imports nothing.' }] }] },
  },
);
