/**
 * Gate: CDK's built-in CloudFormation validation, run once in CI rather than on every synth.
 * Each bundled config is synthesized with CDK_VALIDATION=true, which bin/app.ts turns into the
 * validation plugin with its findings as errors (CDK only warns by default). Synth leaves it off
 * for speed (docs/scaling-limits.md); cfn-lint and checkov run as gates of their own.
 *
 * Configs are synthesized side by side, CI_JOBS at a time (default: one per core): each process
 * spends seconds starting the validation engine, on one core.
 *
 * Usage: tsx scripts/ci/cfn-validate.ts [config ...]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundledConfigs, ciJobs, credentialFreeEnv, mapConcurrently, rel, ROOT, runAsync, summary } from './common';

async function main(): Promise<void> {
  const configs = process.argv.length > 2 ? process.argv.slice(2).map((c) => join(ROOT, c)) : bundledConfigs();
  const scratch = mkdtempSync(join(tmpdir(), 'cfn-validate-'));
  let failed = 0;
  try {
    const cdk = join(ROOT, 'node_modules', '.bin', 'cdk');
    const results = await mapConcurrently(configs, ciJobs(), (config, i) =>
      runAsync(cdk, ['synth', '--quiet', '--no-notices', '-c', `config=${rel(config)}`, '-o', join(scratch, String(i))], {
        env: { ...credentialFreeEnv(), CDK_VALIDATION: 'true' },
        timeoutMs: 10 * 60_000,
      }),
    );
    for (const [i, result] of results.entries()) {
      if (result.status === 0) {
        console.log(`ok   ${rel(configs[i])}`);
      } else {
        failed++;
        console.log(`FAIL ${rel(configs[i])}: built-in CloudFormation validation exited ${result.status ?? result.signal}`);
        process.stdout.write(result.stdout);
        process.stdout.write(result.stderr);
      }
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  summary('cfn-validate', `${configs.length - failed}/${configs.length} configs pass CDK's built-in CloudFormation validation`);
  process.exit(failed > 0 ? 1 : 0);
}

if (require.main === module) void main();
