import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const dirs: string[] = [];
/** A cold synth with Lambda bundling took 61 s on a 2-core machine running two CI suites at once; this is a hang guard, not a budget. */
const SYNTH_TIMEOUT_MS = 180_000;
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/**
 * Runs bin/app.ts the way the CDK CLI does: context in CDK_CONTEXT_JSON, output dir in CDK_OUTDIR.
 * Asynchronous, so the cases of this file run their processes side by side.
 */
function runApp(configFile: string): Promise<{ status: number | null; stderr: string; outdir: string }> {
  const outdir = mkdtempSync(join(tmpdir(), 'app-entry-'));
  dirs.push(outdir);
  const env = {
    ...process.env,
    CDK_CONTEXT_JSON: JSON.stringify({ config: configFile }),
    CDK_OUTDIR: outdir,
    AWS_EC2_METADATA_DISABLED: 'true',
  };
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'bin/app.ts'],
      { encoding: 'utf8', env, timeout: SYNTH_TIMEOUT_MS },
      (error, _stdout, stderr) => {
        resolve({ status: error ? (typeof error.code === 'number' ? error.code : null) : 0, stderr, outdir });
      },
    );
  });
}

describe.concurrent('bin/app.ts', () => {
  it(
    'prints a fleet summary and synthesizes one stack per fleet for the bundled config',
    async () => {
      const result = await runApp('fleet.config.yaml');
      expect(result.status).toBe(0);
      expect(result.stderr).toMatch(/graviton-spot\s+spot\s+arm64/);
      expect(existsSync(join(result.outdir, 'gitlab-runner-fleet-graviton-spot.template.json'))).toBe(true);
      expect(existsSync(join(result.outdir, 'gitlab-runner-fleet-graviton-ondemand.template.json'))).toBe(true);
    },
    SYNTH_TIMEOUT_MS + 10_000,
  );

  it('exits 1 with the config problems and no stack trace on an invalid config', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bad-config-'));
    dirs.push(dir);
    const file = join(dir, 'bad.yaml');
    writeFileSync(
      file,
      'gitlab: { url: http://gitlab.example.com }\nfleets:\n  - { name: a, computeType: spot, instanceTypes: [c5.large], capacity: { max: 1 } }\n',
    );
    const result = await runApp(file);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('fleets[0].instanceTypes[0]: c5.large is x86_64, fleet architecture is arm64');
    expect(result.stderr).toContain('gitlab.url');
    expect(result.stderr).not.toMatch(/^\s+at /m);
  });

  it('exits 1 naming the file when the config file does not exist', async () => {
    const result = await runApp('does-not-exist.yaml');
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('does-not-exist.yaml');
    expect(result.stderr).not.toMatch(/^\s+at /m);
  });
});
