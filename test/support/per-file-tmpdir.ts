/**
 * Vitest setup file, run before each test file. Each worker process gets a temporary folder of
 * its own inside the run's (see global-setup.ts), and whatever a test file adds to it (mkdtemp
 * folders, the cloud assembly CDK writes for `Template.fromStack`, a `cdk synth` child's output)
 * is removed when that file ends. Disk use stays at one file's worth per worker instead of
 * growing for the whole run.
 *
 * The folder is per worker, not per file: aws-cdk-lib remembers the temp folder it saw first
 * (FileSystem.tmpdir), and files that share a worker share that module.
 */
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { RUN_TMPDIR_ENV, TEST_TMPDIR_PREFIX } from './global-setup';

const runRoot = process.env[RUN_TMPDIR_ENV];
if (runRoot) {
  const workerTmpdir = join(runRoot, `${TEST_TMPDIR_PREFIX}worker-${process.pid}`);
  if (!existsSync(workerTmpdir)) mkdirSync(workerTmpdir);
  process.env.TMPDIR = workerTmpdir;
  const before = new Set(readdirSync(workerTmpdir));
  afterAll(() => {
    for (const name of readdirSync(workerTmpdir)) {
      if (!before.has(name)) rmSync(join(workerTmpdir, name), { recursive: true, force: true, maxRetries: 3 });
    }
  });
}
