/**
 * Vitest global setup: every temporary file and folder the tests create (mkdtemp under
 * os.tmpdir(), synthesized cloud assemblies, the Lambda bundle cache) goes into one folder for
 * the run, removed when the run ends, so a test run leaves nothing behind in the system temp
 * folder. The worker processes inherit TMPDIR, and os.tmpdir() reads it on every call.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const TEST_TMPDIR_PREFIX = 'gitlab-runner-fleet-tests-';

export default function setup(): () => void {
  const previous = process.env.TMPDIR;
  const root = mkdtempSync(join(tmpdir(), TEST_TMPDIR_PREFIX));
  process.env.TMPDIR = root;
  return () => {
    if (previous === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previous;
    rmSync(root, { recursive: true, force: true });
  };
}
