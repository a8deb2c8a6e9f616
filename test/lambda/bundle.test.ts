import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { bundleCacheDir, bundleHandler, forgetBundlesInProcess, handlerAssetDir, lambdaBundleSizes } from '../../lib/lambda/bundle';
import { HANDLER_CONFIG_FILE } from '../../lib/lambda/shared/handler-config';
import { sqsEvent, sqsRecord } from './events';

describe('Lambda bundles', () => {
  const previous = process.env.GITLAB_RUNNER_FLEET_BUNDLE_DIR;
  let root: string;

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'bundle-test-'));
    process.env.GITLAB_RUNNER_FLEET_BUNDLE_DIR = root;
  });

  afterAll(() => {
    if (previous === undefined) delete process.env.GITLAB_RUNNER_FLEET_BUNDLE_DIR;
    else process.env.GITLAB_RUNNER_FLEET_BUNDLE_DIR = previous;
  });

  it('bundles each handler once per process', () => {
    expect(bundleHandler('safety-net')).toBe(bundleHandler('safety-net'));
  });

  it('writes an asset directory named by its content, once, with the bundle and the extra files', () => {
    const first = handlerAssetDir('safety-net', { [HANDLER_CONFIG_FILE]: '{"a":1}' });
    const again = handlerAssetDir('safety-net', { [HANDLER_CONFIG_FILE]: '{"a":1}' });
    const other = handlerAssetDir('safety-net', { [HANDLER_CONFIG_FILE]: '{"a":2}' });

    expect(again).toBe(first);
    expect(other).not.toBe(first);
    expect(readdirSync(first).sort()).toEqual([HANDLER_CONFIG_FILE, 'index.js']);
  });

  it('keeps this machine paths out of the bundle', () => {
    const { code } = bundleHandler('orphan-reaper');

    expect(code).not.toContain(process.cwd());
  });

  it('produces a bundle that loads its configuration and answers an SQS batch', async () => {
    const config = { gitlabUrl: 'https://gitlab.example.com', fleets: [] };
    const dir = handlerAssetDir('safety-net', { [HANDLER_CONFIG_FILE]: JSON.stringify(config) });
    const bundled = createRequire(join(dir, 'index.js'))(join(dir, 'index.js')) as { handler: (e: unknown) => Promise<unknown> };
    const unrelated = { 'detail-type': 'EC2 Instance Launch Successful', source: 'aws.autoscaling', detail: {} };
    const log = console.log;
    console.log = () => {};
    try {
      expect(await bundled.handler(sqsEvent(sqsRecord(unrelated)))).toEqual({ batchItemFailures: [] });
    } finally {
      console.log = log;
    }
  });

  it('reports the size of each bundle', () => {
    const sizes = lambdaBundleSizes();

    expect(sizes.map((s) => s.name)).toEqual([
      'safety-net',
      'orphan-reaper',
      'spot-fallback',
      'demand-webhook',
      'demand-scaler',
      'gitlab-runner',
      'schedule-catch-up',
    ]);
    for (const size of sizes) expect(size.bytes).toBeGreaterThan(10_000);
  });
});

describe('Lambda bundle cache (once per source change, not once per synth)', () => {
  const previous = process.env.GITLAB_RUNNER_FLEET_BUNDLE_DIR;

  beforeEach(() => {
    process.env.GITLAB_RUNNER_FLEET_BUNDLE_DIR = mkdtempSync(join(tmpdir(), 'bundle-cache-test-'));
    forgetBundlesInProcess();
  });

  afterAll(() => {
    forgetBundlesInProcess();
    if (previous === undefined) delete process.env.GITLAB_RUNNER_FLEET_BUNDLE_DIR;
    else process.env.GITLAB_RUNNER_FLEET_BUNDLE_DIR = previous;
  });

  it('builds once, then a new process reuses the same bytes from disk', () => {
    // GIVEN a first synth that bundled the handler
    const built = bundleHandler('safety-net');
    expect(built.fromCache).toBe(false);

    // WHEN a later process looks the handler up
    forgetBundlesInProcess();
    const reused = bundleHandler('safety-net');

    // THEN it is served from the cache, byte for byte
    expect(reused.fromCache).toBe(true);
    expect(reused.buildMs).toBe(0);
    expect(reused.sha256).toBe(built.sha256);
  });

  it('records every source file the bundle was built from, relative to the project', () => {
    bundleHandler('safety-net');

    const record = JSON.parse(readFileSync(join(bundleCacheDir(), 'safety-net.json'), 'utf8')) as { inputs: Record<string, string> };
    expect(Object.keys(record.inputs)).toContain('lib/lambda/safety-net/handler.ts');
    expect(Object.keys(record.inputs).some((file) => file.startsWith('node_modules/@aws-sdk/'))).toBe(true);
    expect(Object.keys(record.inputs).every((file) => !file.startsWith('/'))).toBe(true);
  });

  it('bundles again when a source file changed since the cached build', () => {
    // GIVEN a cached bundle whose record says handler.ts had other content
    const built = bundleHandler('safety-net');
    const recordFile = join(bundleCacheDir(), 'safety-net.json');
    const record = JSON.parse(readFileSync(recordFile, 'utf8')) as { inputs: Record<string, string> };
    record.inputs['lib/lambda/safety-net/handler.ts'] = '0'.repeat(64);
    writeFileSync(recordFile, JSON.stringify(record));

    // WHEN a new process looks the handler up
    forgetBundlesInProcess();
    const rebuilt = bundleHandler('safety-net');

    // THEN it is built again, to the same bytes since the file did not really change
    expect(rebuilt.fromCache).toBe(false);
    expect(rebuilt.sha256).toBe(built.sha256);
  });

  it('bundles again when the cached bundle file was tampered with', () => {
    const built = bundleHandler('orphan-reaper');
    writeFileSync(join(bundleCacheDir(), `orphan-reaper-${built.sha256}.js`), 'module.exports = {};');

    forgetBundlesInProcess();
    const rebuilt = bundleHandler('orphan-reaper');

    expect(rebuilt.fromCache).toBe(false);
    expect(rebuilt.sha256).toBe(built.sha256);
  });
});
