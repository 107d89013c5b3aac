// Two projects: `unit` needs no infrastructure; `integration` runs against the
// real stack (local processes from `make up`, or testcontainers; see docs/testing.md).
// Run jest with NODE_OPTIONS=--experimental-vm-modules (the Makefile does): the BigQuery
// client's HTTP layer loads node-fetch with a dynamic import(), which jest's CommonJS
// sandbox refuses otherwise.
const transform = { '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2023' } }] };
// The workspace packages (packages/*) are imported by name; tests run their TypeScript sources.
const moduleNameMapper = { '^@xp-platform/([a-z-]+)$': '<rootDir>/packages/$1/src/index.ts' };

/** @type {import('jest').Config} */
module.exports = {
  // Applies to every project (jest ignores it inside a project entry).
  testTimeout: 120_000,
  projects: [
    {
      displayName: 'unit',
      testMatch: ['<rootDir>/test/unit/**/*.test.ts', '<rootDir>/packages/*/test/**/*.test.ts'],
      transform,
      moduleNameMapper,
      testEnvironment: 'node',
    },
    {
      displayName: 'integration',
      testMatch: ['<rootDir>/test/integration/**/*.test.ts'],
      transform,
      moduleNameMapper,
      testEnvironment: 'node',
      globalSetup: '<rootDir>/test/integration/setup/global-setup.ts',
      globalTeardown: '<rootDir>/test/integration/setup/global-teardown.ts',
    },
    {
      // Longer soak and chaos runs against the real stack (`make test-chaos`).
      displayName: 'chaos',
      testMatch: ['<rootDir>/test/chaos/**/*.test.ts'],
      transform,
      moduleNameMapper,
      testEnvironment: 'node',
      globalSetup: '<rootDir>/test/integration/setup/global-setup.ts',
      globalTeardown: '<rootDir>/test/integration/setup/global-teardown.ts',
    },
  ],
};
