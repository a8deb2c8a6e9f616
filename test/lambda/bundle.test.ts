import { mkdtempSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleHandler, handlerAssetDir, lambdaBundleSizes } from '../../lib/lambda/bundle';
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

    expect(sizes.map((s) => s.name)).toEqual(['safety-net', 'orphan-reaper', 'gitlab-runner']);
    for (const size of sizes) expect(size.bytes).toBeGreaterThan(10_000);
  });
});
