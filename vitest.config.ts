import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const sdkSource = fileURLToPath(new URL('./packages/sdk/src/', import.meta.url));

export default defineConfig({
  resolve: {
    // Tests import `@gatehouse-auth/sdk` by name and run its TypeScript source (as tsconfig.json's
    // "paths" type-check it); the built package is tested from its tarball (test/sdk/package-tarball.test.ts).
    alias: [
      { find: /^@gatehouse-auth\/sdk$/, replacement: `${sdkSource}index.ts` },
      { find: /^@gatehouse-auth\/sdk\/(express|fastify|hono)$/, replacement: `${sdkSource}$1.ts` },
    ],
  },
  test: {
    include: ['src/**/*.test.ts', 'packages/*/src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Two cores: argon2 hashing and Chromium compete for them.
    maxWorkers: 2,
  },
});
