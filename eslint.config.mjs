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
    // Workflow code runs in Temporal's deterministic sandbox: no Node built-ins, no I/O, no app
    // modules — except the failure vocabulary, which imports nothing (see below).
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { group: ['../src/*', '../src/**', '!../src/failures', 'typeorm', 'pg', 'koa', 'node:*', 'fs', 'child_process', 'crypto'],
            message: 'Workflow code must stay deterministic and bundle-safe.' },
          { group: ['../activities', '../activities/*'], message: 'Import activity types only (import type).', allowTypeImports: true },
        ],
      }],
    },
  },
  {
    // The failure vocabulary is shared by the workflows, the activities and the API: it stays pure.
    files: ['src/failures.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [{ group: ['*'], message: 'src/failures.ts is bundled into workflow code: it imports nothing.' }] }] },
  },
);
