/**
 * Parallel synths (CI shards, `cdk synth` next to `cdk diff`) write the same content-named asset
 * directory at once. The rename into place is what loses the race; fs.renameSync is replaced to
 * play the other process.
 */
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { bundleRoot, handlerAssetDir } from '../../lib/lambda/bundle';

const real = vi.hoisted(() => ({ rename: undefined as unknown as typeof import('node:fs').renameSync }));

vi.mock('node:fs', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:fs')>();
  real.rename = actual.renameSync;
  return { ...actual, renameSync: vi.fn(actual.renameSync) };
});

describe('Lambda asset directory written by parallel synths', () => {
  const previous = process.env.GITLAB_RUNNER_FLEET_BUNDLE_DIR;
  let root: string;

  beforeEach(() => {
    root = fs.mkdtempSync(join(tmpdir(), 'bundle-race-'));
    process.env.GITLAB_RUNNER_FLEET_BUNDLE_DIR = root;
  });

  afterEach(() => {
    vi.mocked(fs.renameSync).mockImplementation(real.rename);
    if (previous === undefined) delete process.env.GITLAB_RUNNER_FLEET_BUNDLE_DIR;
    else process.env.GITLAB_RUNNER_FLEET_BUNDLE_DIR = previous;
  });

  it('uses the directory another synth renamed into place first', () => {
    // GIVEN another process finishes the same directory just before this one renames
    vi.mocked(fs.renameSync).mockImplementation((from, to) => {
      real.rename(from, to);
      throw Object.assign(new Error('ENOTEMPTY: directory not empty, rename'), { code: 'ENOTEMPTY' });
    });
    // WHEN the asset directory is asked for
    const dir = handlerAssetDir('safety-net', { 'handler-config.json': '{"race":1}' });
    // THEN it is returned, complete
    expect(vi.mocked(fs.renameSync)).toHaveBeenCalledWith(expect.stringContaining(dir), dir);
    expect(fs.readdirSync(dir).sort()).toEqual(['handler-config.json', 'index.js']);
  });

  it('fails when the rename fails and no directory took its place', () => {
    vi.mocked(fs.renameSync).mockImplementation(() => {
      throw Object.assign(new Error('EACCES: permission denied, rename'), { code: 'EACCES' });
    });
    expect(() => handlerAssetDir('safety-net', { 'handler-config.json': '{"race":2}' })).toThrow(/EACCES/);
  });
});

describe('bundle root', () => {
  const previous = process.env.GITLAB_RUNNER_FLEET_BUNDLE_DIR;

  afterEach(() => {
    if (previous === undefined) delete process.env.GITLAB_RUNNER_FLEET_BUNDLE_DIR;
    else process.env.GITLAB_RUNNER_FLEET_BUNDLE_DIR = previous;
  });

  it('defaults to a folder in the OS temp directory', () => {
    delete process.env.GITLAB_RUNNER_FLEET_BUNDLE_DIR;
    expect(bundleRoot()).toBe(join(tmpdir(), 'gitlab-runner-fleet-lambda'));
  });

  it('follows GITLAB_RUNNER_FLEET_BUNDLE_DIR', () => {
    process.env.GITLAB_RUNNER_FLEET_BUNDLE_DIR = '/var/tmp/fleet-assets';
    expect(bundleRoot()).toBe('/var/tmp/fleet-assets');
  });
});
