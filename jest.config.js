// One jest run = one real PostgreSQL and one real Temporal dev server (started in globalSetup),
// shared by every test file; each file isolates itself with its own task queues and accounts.
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // The compose stack's tests run apart (`npm run test:stack`, jest.stack.config.js): they start their own servers.
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/stack/'],
  transform: { '^.+\\.ts$': ['ts-jest', { diagnostics: false }] },
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  reporters: ['default', '<rootDir>/test/support/summary-reporter.js'],
  testTimeout: 60_000,
  maxWorkers: 2,
};
