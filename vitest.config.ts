import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Integration tests start real Prometheus/Redis processes on loopback: keep file-level
    // parallelism modest on 2-core machines.
    maxWorkers: 2,
    reporters: ['default'],
  },
});
