import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    setupFiles: ['test/setup-env.ts'],
    // Tests run real kustomize and helm binaries; they are slow but never timed.
    testTimeout: 15 * 60_000,
    hookTimeout: 15 * 60_000,
    pool: 'forks',
    maxWorkers: 2,
    // the timing reporter records each run's wall time for `npm run bench`
    reporters: ['default', './test/timing-reporter.ts'],
  },
});
