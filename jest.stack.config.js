// `npm run test:stack`: the compose topology as processes (src/stack), one suite at a time. No
// global set-up: the stack brings its own PostgreSQL and Temporal server, on the ports compose uses.
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test/stack'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { diagnostics: false }] },
  reporters: ['default', '<rootDir>/test/support/summary-reporter.js'],
  testTimeout: 10 * 60_000,
  maxWorkers: 1,
};
