// Two projects: `unit` needs no infrastructure; `integration` runs against the
// real stack (local processes from `make up`, or testcontainers; see docs/testing.md).
const transform = { '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2023' } }] };

/** @type {import('jest').Config} */
module.exports = {
  projects: [
    {
      displayName: 'unit',
      testMatch: ['<rootDir>/test/unit/**/*.test.ts'],
      transform,
      testEnvironment: 'node',
    },
    {
      displayName: 'integration',
      testMatch: ['<rootDir>/test/integration/**/*.test.ts'],
      transform,
      testEnvironment: 'node',
      globalSetup: '<rootDir>/test/integration/setup/global-setup.ts',
      globalTeardown: '<rootDir>/test/integration/setup/global-teardown.ts',
      testTimeout: 120_000,
    },
  ],
};
