/**
 * Gate: synthesis is deterministic. For a generated config of 1 and of 100 fleets, `cdk synth`
 * runs twice through the real CLI path (cdk.json's app) into two directories, and every file
 * written must be byte-identical. The first run starts with an empty Lambda bundle cache and
 * bundles; the second reads the cache, so this also proves cached assets are the built ones.
 *
 * Fleet counts are checked side by side, CI_JOBS at a time (default: one per core); the two synths
 * of one count run one after the other, the second reading the cache the first wrote.
 *
 * Usage: tsx scripts/ci/determinism.ts [fleet counts ...]   (default: 1 100)
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, relative } from 'node:path';
import { ciJobs, credentialFreeEnv, findFiles, mapConcurrently, ROOT, runAsync, summary } from './common';
import { generatedConfig } from './quota-gate';

/**
 * Files of a cloud assembly that record how long synthesis took, not what it produced: the CDK
 * app writes `performance-counters.json` (timings, for the CLI's telemetry) only when a synth
 * took over 10 s per stack, so on a loaded machine one of two synths may have it and the other not.
 */
export const TIMING_FILES: ReadonlySet<string> = new Set(['performance-counters.json']);

/** Every file under `dir` but the {@link TIMING_FILES}, relative path -> sha256. */
export function digestTree(dir: string): Map<string, string> {
  return new Map(
    findFiles(dir, (file) => !TIMING_FILES.has(basename(file)), []).map((file) => [
      relative(dir, file),
      createHash('sha256').update(readFileSync(file)).digest('hex'),
    ]),
  );
}

/** Files that differ between two trees (missing on one side included), sorted. */
export function differingFiles(a: ReadonlyMap<string, string>, b: ReadonlyMap<string, string>): string[] {
  const names = new Set([...a.keys(), ...b.keys()]);
  return [...names].filter((name) => a.get(name) !== b.get(name)).sort();
}

async function synth(config: string, outdir: string, bundleDir: string): Promise<string | undefined> {
  const cdk = join(ROOT, 'node_modules', '.bin', 'cdk');
  const result = await runAsync(cdk, ['synth', '--quiet', '--no-notices', '-c', `config=${config}`, '-o', outdir], {
    env: { ...credentialFreeEnv(), GITLAB_RUNNER_FLEET_BUNDLE_DIR: bundleDir },
    timeoutMs: 15 * 60_000,
  });
  return result.status === 0 ? undefined : `FAIL cdk synth exited ${result.status ?? result.signal}\n${result.stderr}`;
}

/** Two synths of a generated config of `fleets` fleets; the line to print and whether they matched. */
async function checkCount(fleets: number, scratch: string): Promise<{ ok: boolean; line: string }> {
  const config = join(scratch, `fleets-${fleets}.json`);
  writeFileSync(config, JSON.stringify(generatedConfig(fleets)));
  const bundleDir = join(scratch, `bundles-${fleets}`);
  const [first, second] = [join(scratch, `a-${fleets}`), join(scratch, `b-${fleets}`)];
  const failure = (await synth(config, first, bundleDir)) ?? (await synth(config, second, bundleDir));
  if (failure) return { ok: false, line: failure.trimEnd() };
  const a = digestTree(first);
  const diff = differingFiles(a, digestTree(second));
  if (diff.length > 0) {
    return {
      ok: false,
      line: `FAIL ${fleets} fleets: ${diff.length} of ${a.size} files differ between two synths: ${diff.slice(0, 10).join(', ')}`,
    };
  }
  return {
    ok: true,
    line: `ok   ${fleets} fleets: ${a.size} files byte-identical across two synths (first bundled, second from the cache)`,
  };
}

async function main(): Promise<void> {
  const counts = process.argv.length > 2 ? process.argv.slice(2).map(Number) : [1, 100];
  const scratch = mkdtempSync(join(tmpdir(), 'determinism-'));
  let failed = 0;
  try {
    for (const result of await mapConcurrently(counts, ciJobs(), (fleets) => checkCount(fleets, scratch))) {
      if (!result.ok) failed++;
      console.log(result.line);
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  summary('determinism', `${counts.length - failed}/${counts.length} fleet counts byte-identical (${counts.join(', ')} fleets)`);
  process.exit(failed > 0 ? 1 : 0);
}

if (require.main === module) void main();
