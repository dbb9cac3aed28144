import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['{common,coordinator,worker-node,services,cli,proto}/**/*.test.ts', 'test/**/*.test.ts'],
    // Integration tests start real processes and a real model: give them room, never time assertions.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
