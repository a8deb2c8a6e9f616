import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';
import { filesThatPatchProcessState, TEST_FILES } from './test/support/test-isolation.js';

// Test files that replace modules, spy on shared objects or change process.env run each in a
// fresh process; every other file shares its worker's module cache with the files before it.
// Sharing is what makes the suite fast: loading aws-cdk-lib and warming CDK's synthesis (its
// CloudFormation validation engine above all) costs seconds of CPU per process, paid once per
// worker instead of once per file. The split is found by reading the files, so a new test that
// mocks lands in the isolated project without anyone editing this list.
const ISOLATED = filesThatPatchProcessState();

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Vitest's default is one worker fewer than the cores: one worker on CI's 2-core machine.
    // Many tests wait on child processes (bash, the CLI, cdk synth), so every core is kept busy.
    maxWorkers: availableParallelism(),
    // One temp folder per run, removed at the end; each test file gets its own folder inside it,
    // removed when the file ends; the run fails if a test leaves anything in the repository.
    globalSetup: ['test/support/global-setup.ts'],
    setupFiles: ['test/support/per-file-tmpdir.ts'],
    coverage: {
      provider: 'v8',
      include: ['lib/**/*.ts'],
      reporter: ['text-summary', 'text', 'json-summary'],
      reportsDirectory: 'coverage',
      // Report the figures even when a test fails, so CI always shows where coverage stands.
      reportOnFailure: true,
      // CI fails below these (issue 6: lines and branches at least 90% for lib/).
      thresholds: { lines: 90, branches: 90 },
    },
    projects: [
      { extends: true, test: { name: 'shared', include: TEST_FILES, exclude: ISOLATED, isolate: false } },
      ...(ISOLATED.length > 0 ? [{ extends: true as const, test: { name: 'isolated', include: ISOLATED, isolate: true } }] : []),
    ],
  },
});
