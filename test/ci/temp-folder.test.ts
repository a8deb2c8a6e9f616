import { tmpdir } from 'node:os';
import { basename, dirname } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TEST_TMPDIR_PREFIX } from '../support/global-setup';

describe('the test run temp folder', () => {
  it('puts every temp file of the tests under one folder that the global setup removes at the end of the run', () => {
    // Each worker inherits TMPDIR = <system temp>/gitlab-runner-fleet-tests-XXXXXX.
    expect(basename(tmpdir())).toMatch(new RegExp(`^${TEST_TMPDIR_PREFIX}`));
    expect(dirname(tmpdir())).not.toBe(tmpdir());
  });
});
