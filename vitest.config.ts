import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // several tests run the built dist/: rebuild it first when it is older than src/; the fleet
    // tests share a private PostgreSQL and Redis (test/setup/servers.ts)
    globalSetup: ['test/setup/dist-current.ts', 'test/setup/servers.ts'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    pool: 'forks',
    reporters: ['default'],
    // `npm test` runs with --coverage: a summary on stdout, the per-file report in coverage/
    // (git-ignored; index.html, coverage-summary.json). Code run in child processes (the CLI
    // and multi-process tests run dist/) and in Chromium (the dashboard bundle) is not counted.
    coverage: {
      provider: 'v8',
      include: ['src/**/*.{ts,tsx}'],
      reporter: ['text-summary', 'json-summary', 'html'],
      reportsDirectory: 'coverage',
      reportOnFailure: true,
    },
    // The Anthropic SDK warns on every call with a model it lists as deprecated; tests use such
    // ids on purpose (their prices are in the price table), so the warning is only noise here.
    onConsoleLog: (log) => !log.includes('is deprecated and will reach end-of-life'),
  },
});
