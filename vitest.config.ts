// vitest configuration: one fork per test file (crypto is CPU-bound), generous timeouts
// because the pure-TypeScript engine is slow by design; test/global-setup.ts prepares what the
// tests run as another uid load.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    pool: 'forks',
    testTimeout: 120_000,
    hookTimeout: 120_000,
    reporters: ['default'],
  },
});
