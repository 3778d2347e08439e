import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const source = (path: string) => fileURLToPath(new URL(path, import.meta.url));

export default defineConfig({
  resolve: {
    // Tests run the TypeScript sources directly: no build step between an edit and a test run.
    alias: {
      '@tally/config': source('./packages/config/src/index.ts'),
      '@tally/db': source('./packages/db/src/index.ts'),
      '@tally/cache': source('./packages/cache/src/index.ts'),
      '@tally/worker': source('./apps/worker/src/index.ts'),
      '@tally/api': source('./apps/api/src/index.ts'),
      '@tally/test-support': source('./test/support/index.ts'),
    },
  },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'apps/*/test/**/*.test.ts', 'bench/test/**/*.test.ts', 'test/**/*.test.ts'],
    globalSetup: ['./test/global-setup.ts'],
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    teardownTimeout: 30_000,
    // Files run in parallel, each in its own database and Redis prefix.
    fileParallelism: true,
  },
});
