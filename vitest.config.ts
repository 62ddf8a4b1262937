import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The real-cluster scenarios run under `npm run test:cluster` (vitest.cluster.config.ts).
    exclude: ['test/cluster/**', '**/node_modules/**'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Integration tests start real Prometheus/Redis processes on loopback: keep file-level
    // parallelism modest on 2-core machines.
    maxWorkers: 2,
    reporters: ['default'],
  },
});
