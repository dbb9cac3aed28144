import { defineConfig } from 'vitest/config';

// Unit tests run in parallel. Integration and end-to-end tests start real processes and run real
// models on a 2-core machine: one file at a time, so they do not starve each other's heartbeats.
// No test asserts a timing.
export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: ['{common,coordinator,worker-node,services,cli,proto,gateway}/**/*.test.ts'] },
      },
      {
        extends: true,
        test: { name: 'integration', include: ['test/**/*.test.ts'], fileParallelism: false, testTimeout: 300_000 },
      },
    ],
  },
});
