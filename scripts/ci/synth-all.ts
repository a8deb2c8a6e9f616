/**
 * Gate: synthesize every bundled config (fleet.config.yaml, examples/*) through the real CLI
 * path (`cdk synth -c config=<file>`, i.e. cdk.json's app), with no AWS credentials, into
 * cdk.out/ci/synth/<config>/. Fails if any config does not synthesize, yields no template,
 * or leaves anything shaped like a GitLab token in the output.
 *
 * Configs are synthesized side by side, CI_JOBS at a time (default: one per core).
 *
 * Usage: tsx scripts/ci/synth-all.ts [config ...]
 */
import { mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import {
  bundledConfigs,
  ciJobs,
  configLabel,
  credentialFreeEnv,
  findFiles,
  findTemplates,
  mapConcurrently,
  plural,
  rel,
  ROOT,
  runAsync,
  summary,
  SYNTH_OUT,
} from './common';

/** A real-looking runner or personal access token; fake ones are built at test time, never synthesized. */
export const TOKEN_PATTERN = /gl(?:rt|pat)-[A-Za-z0-9_-]{10,}/;

interface SynthResult {
  readonly config: string;
  readonly ok: boolean;
  readonly seconds: number;
  readonly stacks: number;
  readonly resources: number;
  readonly bytes: number;
  /** Failure lines and the failed synth's output, printed with the config's result line. */
  readonly problems: readonly string[];
}

async function synthOne(config: string): Promise<SynthResult> {
  const outdir = join(SYNTH_OUT, configLabel(config));
  rmSync(outdir, { recursive: true, force: true });
  mkdirSync(outdir, { recursive: true });
  const started = Date.now();
  const cdk = join(ROOT, 'node_modules', '.bin', 'cdk');
  const result = await runAsync(cdk, ['synth', '--quiet', '--no-notices', '-c', `config=${rel(config)}`, '-o', outdir], {
    env: credentialFreeEnv(),
    timeoutMs: 10 * 60_000,
  });
  const seconds = (Date.now() - started) / 1000;
  const templates = findTemplates(outdir);
  let resources = 0;
  let bytes = 0;
  for (const template of templates) {
    bytes += statSync(template).size;
    resources += Object.keys((JSON.parse(readFileSync(template, 'utf8')) as { Resources?: object }).Resources ?? {}).length;
  }
  let ok = result.status === 0 && templates.length > 0;
  const problems: string[] = [];
  if (!ok) {
    problems.push(
      `FAIL ${rel(config)}: cdk synth exited ${result.status ?? result.signal}${templates.length === 0 ? ', no templates' : ''}`,
      result.stdout,
      result.stderr,
    );
  }
  const leaks = findFiles(outdir, () => true).filter(
    (file) => statSync(file).size < 50 * 1024 * 1024 && TOKEN_PATTERN.test(readFileSync(file, 'utf8')),
  );
  if (leaks.length > 0) {
    ok = false;
    problems.push(`FAIL ${rel(config)}: token-shaped string (glrt-/glpat-) in ${leaks.map(rel).join(', ')}`);
  }
  return { config: rel(config), ok, seconds, stacks: templates.length, resources, bytes, problems };
}

async function main(): Promise<void> {
  const configs = process.argv.length > 2 ? process.argv.slice(2).map((c) => join(ROOT, c)) : bundledConfigs();
  if (configs.length === 0) {
    console.log('FAIL no bundled configs found (fleet.config.yaml, examples/*.yaml)');
    summary('synth', '0 configs');
    process.exit(1);
  }
  const started = Date.now();
  const results = await mapConcurrently(configs, ciJobs(), synthOne);
  for (const result of results) {
    for (const problem of result.problems) console.log(problem.trimEnd());
    console.log(
      `${result.ok ? 'ok  ' : 'FAIL'} ${result.config.padEnd(40)} ${String(result.stacks).padStart(3)} stacks ${String(result.resources).padStart(5)} resources ${(result.bytes / 1024).toFixed(1).padStart(8)} KiB  ${result.seconds.toFixed(1)}s`,
    );
  }
  console.log(`${plural(results.length, 'config')} in ${((Date.now() - started) / 1000).toFixed(1)}s, ${ciJobs()} at a time`);
  const failed = results.filter((r) => !r.ok).length;
  const stacks = results.reduce((n, r) => n + r.stacks, 0);
  const resources = results.reduce((n, r) => n + r.resources, 0);
  summary('synth', `${plural(results.length, 'config')}, ${plural(stacks, 'stack')}, ${resources} resources, ${failed} failed`);
  process.exit(failed > 0 ? 1 : 0);
}

if (require.main === module) void main();
