/**
 * Vitest global setup: every temporary file and folder the tests create (mkdtemp under
 * os.tmpdir(), synthesized cloud assemblies, the Lambda bundle cache) goes into one folder for
 * the run, removed when the run ends, so a test run leaves nothing behind in the system temp
 * folder. The worker processes inherit TMPDIR, and os.tmpdir() reads it on every call; each
 * worker gets a folder of its own inside it, emptied of what each test file added when the file
 * ends (per-file-tmpdir.ts).
 *
 * The Lambda bundles and the CLI's compile cache are shared by every worker of the run, in one
 * known folder each, so a handler is bundled once per run, not once per test file.
 *
 * The run fails at teardown if a test left anything in the repository (a `cdk.out` of a
 * `cdk synth` without `-o`, a scratch file) or in the run's folder outside those caches.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const TEST_TMPDIR_PREFIX = 'gitlab-runner-fleet-tests-';
/** Names the run's temp folder for the setup file, which moves TMPDIR to a folder per test file. */
export const RUN_TMPDIR_ENV = 'GITLAB_RUNNER_FLEET_TEST_RUN_TMPDIR';
/** The caches every worker of a run shares, inside the run's folder. */
export const SHARED_CACHES = { GITLAB_RUNNER_FLEET_BUNDLE_DIR: 'lambda-bundles', RUNNER_FLEET_CODE_CACHE_DIR: 'cli-code-cache' } as const;

/** Top-level entries of the repository a test run may create: vitest's coverage report. */
const REPO_OUTPUTS = new Set(['coverage']);

/**
 * What the tests left behind: new top-level entries of the repository, and anything in the run's
 * folder but the shared caches and the (emptied) worker folders.
 */
export function leftovers(
  repoBefore: ReadonlySet<string>,
  repoAfter: readonly string[],
  runFolder: ReadonlyMap<string, readonly string[]>,
): string[] {
  const cacheNames = new Set<string>(Object.values(SHARED_CACHES));
  const inRunFolder = [...runFolder].flatMap(([name, content]) =>
    cacheNames.has(name) ? [] : name.startsWith(`${TEST_TMPDIR_PREFIX}worker-`) ? content.map((entry) => `${name}/${entry}`) : [name],
  );
  return [
    ...repoAfter.filter((name) => !repoBefore.has(name) && !REPO_OUTPUTS.has(name)).map((name) => `repository: ${name}`),
    ...inRunFolder.map((name) => `temp folder: ${name}`),
  ].sort();
}

/** Each entry of a folder, with the entries inside it when it is a folder. */
function listing(dir: string): Map<string, string[]> {
  return new Map(
    readdirSync(dir, { withFileTypes: true }).map((entry) => [entry.name, entry.isDirectory() ? readdirSync(join(dir, entry.name)) : []]),
  );
}

export default function setup(): () => void {
  // Vitest runs the global setup once per project (shared, isolated); the first one serves the run.
  if (process.env[RUN_TMPDIR_ENV]) return () => undefined;
  const saved = Object.fromEntries(['TMPDIR', RUN_TMPDIR_ENV, ...Object.keys(SHARED_CACHES)].map((key) => [key, process.env[key]]));
  const root = mkdtempSync(join(tmpdir(), TEST_TMPDIR_PREFIX));
  const repo = process.cwd();
  const repoBefore = new Set(readdirSync(repo));
  process.env.TMPDIR = root;
  process.env[RUN_TMPDIR_ENV] = root;
  for (const [key, name] of Object.entries(SHARED_CACHES)) process.env[key] = join(root, name);
  return () => {
    const left = leftovers(repoBefore, readdirSync(repo), listing(root));
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
    rmSync(root, { recursive: true, force: true });
    if (left.length > 0) {
      // Vitest only logs an error thrown here; the exit status is what fails CI.
      process.exitCode = 1;
      throw new Error(`tests left ${left.length} file(s) behind; remove what a test creates: ${left.join(', ')}`);
    }
  };
}
