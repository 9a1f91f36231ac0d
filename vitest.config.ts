// vitest configuration: one fork per test file (crypto is CPU-bound), generous timeouts
// because the pure-TypeScript engine is slow by design.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 120_000,
    hookTimeout: 120_000,
    reporters: ['default'],
  },
});
