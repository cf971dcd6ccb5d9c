import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['packages/*/test/**/*.test.ts', 'agents/test/**/*.test.ts', 'coordinator/test/**/*.test.ts', 'test/**/*.test.ts'],
    globalSetup: ['test/natsSetup.ts'],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
