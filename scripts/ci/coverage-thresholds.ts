/** Coverage floors for lib/ (issue 6) checked by the CI coverage gate; test/ci/coverage-thresholds.test.ts keeps them equal to vitest.config.mts. */
export const COVERAGE_THRESHOLDS = { lines: 90, branches: 90 } as const;
