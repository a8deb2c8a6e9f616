import { describe, expect, it } from 'vitest';
import vitestConfig from '../../vitest.config.mjs';
import { COVERAGE_THRESHOLDS } from '../../scripts/ci/coverage-thresholds';

describe('coverage thresholds', () => {
  it('are the same in the CI coverage gate and in vitest.config.mts', () => {
    expect(
      vitestConfig.test?.coverage && 'thresholds' in vitestConfig.test.coverage ? vitestConfig.test.coverage.thresholds : undefined,
    ).toEqual(COVERAGE_THRESHOLDS);
  });
});
