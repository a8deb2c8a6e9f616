import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSync } from 'esbuild';
import { beforeAll, describe, expect, it } from 'vitest';

/** The CLI and its launcher as `npm run build:cli` builds them, inside the checkout so node_modules resolve. */
function buildLauncher(): string {
  const dir = join(process.cwd(), 'node_modules', '.cache', 'runner-fleet-launcher-test', String(process.pid));
  const common = { bundle: true, minify: true, platform: 'node', target: 'node20', format: 'cjs', logLevel: 'warning' } as const;
  buildSync({
    ...common,
    entryPoints: ['bin/runner-fleet.ts'],
    outfile: join(dir, 'runner-fleet-main.js'),
    external: ['@aws-sdk/*'],
    supported: { 'dynamic-import': false },
  });
  buildSync({ ...common, entryPoints: ['bin/runner-fleet-launcher.ts'], outfile: join(dir, 'runner-fleet.js') });
  return join(dir, 'runner-fleet.js');
}

describe('runner-fleet launcher (V8 code cache)', () => {
  let launcher: string;
  beforeAll(() => {
    launcher = buildLauncher();
  }, 120_000);

  const run = (cacheDir: string) =>
    spawnSync(process.execPath, [launcher, 'cost', '--format', 'json'], {
      encoding: 'utf8',
      env: { ...process.env, RUNNER_FLEET_CODE_CACHE_DIR: cacheDir, AWS_EC2_METADATA_DISABLED: 'true' },
      timeout: 60_000,
    });

  it('keeps the compiled code after a first run and gives the same output from it on the next', () => {
    // GIVEN an empty cache directory
    const cacheDir = mkdtempSync(join(tmpdir(), 'code-cache-'));

    // WHEN the CLI runs twice
    const first = run(cacheDir);
    const [cacheFile] = readdirSync(cacheDir);
    const writtenAt = statSync(join(cacheDir, cacheFile)).mtimeMs;
    const second = run(cacheDir);

    // THEN both succeed with the same report, and the accepted cache is not rewritten
    expect(first.status).toBe(0);
    expect(second.status).toBe(0);
    expect(second.stdout).toBe(first.stdout);
    expect(JSON.parse(first.stdout)).toHaveProperty('fleets');
    expect(readdirSync(cacheDir)).toEqual([cacheFile]);
    expect(statSync(join(cacheDir, cacheFile)).mtimeMs).toBe(writtenAt);
  });

  it('runs from a corrupt cache and replaces it', () => {
    const cacheDir = mkdtempSync(join(tmpdir(), 'code-cache-'));
    const good = run(cacheDir);
    const [cacheFile] = readdirSync(cacheDir);
    writeFileSync(join(cacheDir, cacheFile), 'not V8 code');

    const again = run(cacheDir);

    expect(again.status).toBe(0);
    expect(again.stdout).toBe(good.stdout);
    expect(statSync(join(cacheDir, cacheFile)).size).toBeGreaterThan(1000);
  });
});
