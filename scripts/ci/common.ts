/**
 * Helpers shared by the CI gate scripts (scripts/ci/*.ts, run by .ci/run through tsx).
 * Gates discover their inputs by globbing, so stacks, examples and scripts added later are
 * checked without touching CI.
 */
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { basename, delimiter, extname, join, relative, resolve } from 'node:path';

export const ROOT = resolve(__dirname, '..', '..');

/** Where gates write synthesized templates and extracted user data (inside the gitignored cdk.out/). */
export const CI_OUT = process.env.CI_OUT_DIR ? resolve(process.env.CI_OUT_DIR) : join(ROOT, 'cdk.out', 'ci');
export const SYNTH_OUT = join(CI_OUT, 'synth');

/** Bundled fleet configs: the root fleet.config.yaml and every examples/*.yaml|yml|json. */
export function bundledConfigs(root = ROOT): string[] {
  const configs: string[] = [];
  if (existsSync(join(root, 'fleet.config.yaml'))) configs.push(join(root, 'fleet.config.yaml'));
  const examples = join(root, 'examples');
  if (existsSync(examples)) {
    for (const name of readdirSync(examples).sort()) {
      if (['.yaml', '.yml', '.json'].includes(extname(name))) configs.push(join(examples, name));
    }
  }
  return configs;
}

/** A directory-safe label for a config file: `fleet.config`, `examples-spot-only`. */
export function configLabel(file: string, root = ROOT): string {
  const rel = relative(root, file);
  return rel.replace(/\.(ya?ml|json)$/, '').replace(/[\\/]/g, '-');
}

/** Every file under `dir` (recursively) accepted by `accept`, sorted. Missing dir: empty. */
export function findFiles(
  dir: string,
  accept: (path: string) => boolean,
  skipDirs: readonly string[] = ['node_modules', '.git', '.venv'],
): string[] {
  if (!existsSync(dir)) return [];
  const found: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) {
      if (!skipDirs.includes(name)) found.push(...findFiles(path, accept, skipDirs));
    } else if (accept(path)) {
      found.push(path);
    }
  }
  return found;
}

/** Synthesized CloudFormation templates under `dir`. */
export function findTemplates(dir: string): string[] {
  return findFiles(dir, (path) => basename(path).endsWith('.template.json'));
}

/**
 * Resolves a tool: the repo's Python virtualenv first (.venv/bin, where .ci/run installs the
 * pinned cfn-lint and checkov), then PATH.
 */
export function findTool(name: string): string | undefined {
  const dirs = [join(ROOT, '.venv', 'bin'), ...(process.env.PATH ?? '').split(delimiter)];
  for (const dir of dirs) {
    const candidate = join(dir, name);
    if (dir && existsSync(candidate)) return candidate;
  }
  return undefined;
}

/** Runs a command to completion, capturing output (no shell). */
export function run(
  command: string,
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): SpawnSyncReturns<string> {
  return spawnSync(command, args, {
    cwd: options.cwd ?? ROOT,
    env: options.env ?? process.env,
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
    timeout: options.timeoutMs,
  });
}

/** What a finished command left: exit status (null when killed), signal and its output. */
export interface RunResult {
  readonly status: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** {@link run} without blocking, so a gate can run several commands at once. */
export function runAsync(
  command: string,
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: options.cwd ?? ROOT, env: options.env ?? process.env, timeout: options.timeoutMs });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    const done = (status: number | null, signal: NodeJS.Signals | null, error?: Error) =>
      resolve({
        status,
        signal,
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8') + (error ? `${error.message}\n` : ''),
      });
    child.on('error', (error) => done(null, null, error));
    child.on('close', (status, signal) => done(status, signal));
  });
}

/**
 * How many commands a gate runs at once: `CI_JOBS`, else one per core. Synthesis and the linters
 * are single-threaded, so on CI's 2 cores two at a time halve a gate's wall time.
 */
export function ciJobs(env: NodeJS.ProcessEnv = process.env): number {
  const jobs = Number(env.CI_JOBS);
  return Number.isInteger(jobs) && jobs >= 1 ? jobs : availableParallelism();
}

/** `work` over every item, at most `limit` at a time; results in the items' order. */
export async function mapConcurrently<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index], index);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return results;
}

/** Environment for synthesis: no credentials, no instance metadata, no telemetry. */
export function credentialFreeEnv(base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...base };
  for (const key of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE', 'AWS_DEFAULT_PROFILE'])
    delete env[key];
  return {
    ...env,
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    CDK_DISABLE_VERSION_CHECK: 'true',
    CDK_DISABLE_CLI_TELEMETRY: 'true',
  };
}

/** The one line .ci/run lifts into its final table. */
export function summary(gate: string, text: string): void {
  console.log(`SUMMARY ${gate}: ${text}`);
}

export function rel(path: string): string {
  return relative(ROOT, path) || '.';
}

export function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

/**
 * What a template-linting gate starts from: its tool on PATH (or in .venv) and the synthesized
 * templates to check (files given on the command line, or every template under the directories
 * given, by default the synth gate's output). Exits with a FAIL line when either is missing.
 */
export function gateToolAndTemplates(
  gate: string,
  tool: string,
  args: readonly string[] = process.argv.slice(2),
): { tool: string; templates: string[] } {
  const inputs = args.length > 0 ? args.map((p) => resolve(p)) : [SYNTH_OUT];
  const templates = inputs.flatMap((input) => (statSync(input, { throwIfNoEntry: false })?.isFile() ? [input] : findTemplates(input)));
  const found = findTool(tool);
  if (!found) {
    console.log(`FAIL ${tool} not found (.ci/run installs it into .venv; see scripts/ci/requirements.txt)`);
    summary(gate, 'not installed');
    process.exit(1);
  }
  if (templates.length === 0) {
    console.log(`FAIL no *.template.json under ${inputs.map(rel).join(', ')} (run the synth gate first)`);
    summary(gate, '0 templates');
    process.exit(1);
  }
  return { tool: found, templates };
}
