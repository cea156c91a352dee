import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Integration tests own kernel namespaces and OVS instances; run files in
    // separate processes, two at a time (the machines have 2 cores).
    pool: 'forks',
    maxWorkers: 2,
    // No daemon outlives its test file, whatever the test did.
    setupFiles: ['test/support/no-leftover-vifd.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
