// Test runner settings: node environment, tests under test/.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    // property tests start from a fixed seed (FC_SEED=random explores; see test/helpers/fast-check-seed.ts);
    // every GitHub request and mock answer is checked against GitHub's OpenAPI description (github-spec-guard.ts)
    setupFiles: ['test/helpers/fast-check-seed.ts', 'test/helpers/github-spec-guard.ts'],
    // time limits catch hangs only: at least 5 times what a test takes on a quiet machine
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // the JSON report lets .ci/run print a plain "N passed, N failed" line
    reporters: ['default', 'json'],
    outputFile: { json: 'test-results.json' },
  },
});
