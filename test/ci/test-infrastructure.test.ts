/**
 * The test run's own rules: where temporary files go, and the teardown check that fails a run
 * leaving files behind (test/support/global-setup.ts). This file shares its worker process with
 * other files (see test-isolation.test.ts for which do not).
 */
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bundleCacheDir } from '../../lib/lambda/bundle';
import { leftovers, RUN_TMPDIR_ENV, SHARED_CACHES, TEST_TMPDIR_PREFIX } from '../support/global-setup';

describe('temporary files of a test run', () => {
  it("gives each worker a folder inside the run's folder, which the global setup removes at the end", () => {
    const runRoot = process.env[RUN_TMPDIR_ENV];

    expect(runRoot).toBeDefined();
    expect(dirname(tmpdir())).toBe(runRoot);
    expect(basename(tmpdir())).toBe(`${TEST_TMPDIR_PREFIX}worker-${process.pid}`);
  });

  it('shares one Lambda bundle cache between all workers of the run', () => {
    expect(bundleCacheDir()).toBe(join(process.env[RUN_TMPDIR_ENV] ?? '?', SHARED_CACHES.GITLAB_RUNNER_FLEET_BUNDLE_DIR, 'cache'));
  });

  it('starts each test file with an empty worker folder: what earlier files made there is gone', () => {
    // Every file's additions are removed when it ends, and this file made nothing yet.
    const made = mkdtempSync(join(tmpdir(), 'made-by-this-file-'));

    expect(readdirSync(tmpdir())).toEqual([basename(made)]);
    expect(existsSync(made)).toBe(true);
  });
});

describe('leftovers check at the end of a run', () => {
  const repoBefore = new Set(['lib', 'package.json', 'test']);
  const cleanRun = new Map<string, string[]>([
    [SHARED_CACHES.GITLAB_RUNNER_FLEET_BUNDLE_DIR, ['cache']],
    [SHARED_CACHES.RUNNER_FLEET_CODE_CACHE_DIR, []],
    [`${TEST_TMPDIR_PREFIX}worker-100`, []],
  ]);

  it('passes a run that left only the shared caches, empty worker folders and the coverage report', () => {
    expect(leftovers(repoBefore, [...repoBefore, 'coverage'], cleanRun)).toEqual([]);
  });

  it('names a cdk.out written into the repository', () => {
    expect(leftovers(repoBefore, [...repoBefore, 'cdk.out'], cleanRun)).toEqual(['repository: cdk.out']);
  });

  it('names an assembly a test file left in its worker folder and a file written beside the worker folders', () => {
    const run = new Map(cleanRun).set(`${TEST_TMPDIR_PREFIX}worker-100`, ['cdk.outAbC123']).set('stray.json', []);

    expect(leftovers(repoBefore, [...repoBefore], run)).toEqual([
      `temp folder: ${TEST_TMPDIR_PREFIX}worker-100/cdk.outAbC123`,
      'temp folder: stray.json',
    ]);
  });
});
