import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    globalSetup: ['./test/harness/dashboard-build.ts'],
    reporters: ['default', './test/harness/summary-reporter.ts'],
  },
});
