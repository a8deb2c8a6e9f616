/**
 * `npm run bench`: how the app scales and how fast the CLI starts.
 *
 * - synth time for 1, 10 and 100 generated fleets (alternating Graviton spot / on-demand, every
 *   third spot fleet with an on-demand floor, all scheduled), with cdk-nag on and off, median of a few runs;
 * - resources and template bytes per fleet stack and per shared stack;
 * - Lambda bundle sizes (the assets the synthesized functions deploy);
 * - start-up time of `runner-fleet cost` on the bundled config beside `node -e ""`.
 *
 * Prints a table and writes bench/results.json (gitignored). Parts whose code is not there
 * report `n/a: <reason>` instead of failing. Runs per size: BENCH_RUNS (default 5/3/3).
 */
import { runDemandBench } from './demand-bench';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { gzipSync } from 'node:zlib';
import { parseFleetConfig, type FleetConfig } from '../lib/config';
import { catalogSynthBench } from './catalog-bench';

const ROOT = join(__dirname, '..');
const SIZES = [1, 10, 100] as const;
const RUNS: Record<number, number> = process.env.BENCH_RUNS
  ? Object.fromEntries(SIZES.map((n) => [n, Number(process.env.BENCH_RUNS)]))
  : { 1: 5, 10: 3, 100: 3 };

type NotAvailable = { readonly na: string };
const na = (reason: string): NotAvailable => ({ na: reason });
const isNa = (value: unknown): value is NotAvailable => typeof value === 'object' && value !== null && 'na' in value;

interface SynthApp {
  synth(): {
    readonly directory: string;
    readonly stacks: ReadonlyArray<{ readonly stackName: string; readonly templateFile: string; readonly template: unknown }>;
  };
}
type CreateFleetApp = (config: FleetConfig, options?: { outdir?: string; nag?: boolean }) => SynthApp;

interface TemplateShape {
  readonly Resources?: Record<string, { readonly Type: string; readonly Metadata?: Record<string, unknown> }>;
}

/** Generated fleets: alternating Graviton spot / on-demand, every third spot fleet with an on-demand floor. */
export function benchConfig(fleets: number): FleetConfig {
  return parseFleetConfig(rawBenchConfig(fleets), `bench(${fleets})`);
}

/** The config file behind {@link benchConfig}, as it would be written in YAML (here JSON). */
export function rawBenchConfig(fleets: number): Record<string, unknown> {
  return {
    gitlab: { url: 'https://gitlab.example.com' },
    orphanReaper: { enabled: true },
    fleets: Array.from({ length: fleets }, (_, i) => {
      const spot = i % 2 === 0;
      return {
        name: `bench-${String(i).padStart(3, '0')}`,
        computeType: spot ? 'spot' : 'on-demand',
        architecture: 'arm64',
        instanceTypes: spot ? ['m7g.large', 'm6g.large', 'c7g.large'] : ['m7g.large', 'm6g.large'],
        concurrency: spot ? 10 : 4,
        capacity: { min: 0, max: 10, desired: 2 },
        ...(spot && i % 3 === 0 ? { onDemandBase: 1 } : {}),
        schedule: { timeZone: 'Europe/Berlin', windows: [{ days: 'mon-fri', start: '08:00', end: '18:00' }] },
      };
    }),
  };
}

/**
 * What a user waits for: `cdk synth` of a generated config file in a fresh process (CLI, tsx,
 * module loading, Lambda bundling, cdk-nag as bin/app.ts runs it), once.
 */
function coldCliSynth(fleets: number): { fleets: number; ms: number; stacks: number } | NotAvailable {
  if (!existsSync(join(ROOT, 'bin', 'app.ts'))) return na('bin/app.ts not built yet');
  const dir = mkdtempSync(join(tmpdir(), 'bench-cold-'));
  try {
    const config = join(dir, 'fleets.json');
    writeFileSync(config, JSON.stringify(rawBenchConfig(fleets)));
    const outdir = join(dir, 'cdk.out');
    const started = performance.now();
    const result = spawnSync(
      join(ROOT, 'node_modules', '.bin', 'cdk'),
      ['synth', '--quiet', '--no-notices', '-c', `config=${config}`, '-o', outdir],
      {
        cwd: ROOT,
        encoding: 'utf8',
        timeout: 600_000,
        env: { ...process.env, AWS_EC2_METADATA_DISABLED: 'true', CDK_DISABLE_VERSION_CHECK: 'true', CDK_DISABLE_CLI_TELEMETRY: 'true' },
      },
    );
    const ms = performance.now() - started;
    if (result.status !== 0)
      return na(`cdk synth exited ${result.status ?? result.signal}: ${(result.stderr || result.stdout).trim().split('\n').slice(-1)[0]}`);
    return { fleets, ms, stacks: readdirSync(outdir).filter((f) => f.endsWith('.template.json')).length };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function loadFactory(): CreateFleetApp | NotAvailable {
  const file = join(ROOT, 'lib', 'stacks', 'fleet-app.ts');
  if (!existsSync(file)) return na('lib/stacks/fleet-app.ts not built yet');
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded only if present, so the bench runs before it exists
    const factory = (require(file) as { createFleetApp?: unknown }).createFleetApp;
    return typeof factory === 'function' ? (factory as CreateFleetApp) : na('lib/stacks/fleet-app.ts does not export createFleetApp');
  } catch (error) {
    return na(`lib/stacks/fleet-app.ts failed to load: ${(error as Error).message.split('\n')[0]}`);
  }
}

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

interface SynthTiming {
  readonly fleets: number;
  readonly nag: boolean;
  readonly runs: number;
  readonly medianMs: number;
  readonly minMs: number;
  readonly msPerFleet: number;
}

interface StackStats {
  readonly stack: string;
  readonly kind: 'fleet' | 'shared';
  readonly resources: number;
  readonly bytes: number;
}

function timeSynth(createFleetApp: CreateFleetApp, fleets: number, nag: boolean, runs: number): SynthTiming | NotAvailable {
  const config = benchConfig(fleets);
  const times: number[] = [];
  for (let run = 0; run < runs; run++) {
    const outdir = mkdtempSync(join(tmpdir(), 'bench-synth-'));
    try {
      const started = performance.now();
      createFleetApp(config, { outdir, nag }).synth();
      times.push(performance.now() - started);
    } catch (error) {
      return na(`synth failed: ${(error as Error).message.split('\n')[0]}`);
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  }
  const medianMs = median(times);
  return { fleets, nag, runs, medianMs, minMs: Math.min(...times), msPerFleet: medianMs / fleets };
}

function stackStats(assembly: ReturnType<SynthApp['synth']>): StackStats[] {
  return assembly.stacks.map((stack) => {
    const resources = Object.values((stack.template as TemplateShape).Resources ?? {});
    return {
      stack: stack.stackName,
      kind: resources.some((r) => r.Type === 'AWS::AutoScaling::AutoScalingGroup') ? 'fleet' : 'shared',
      resources: resources.length,
      bytes: statSync(join(assembly.directory, stack.templateFile)).size,
    };
  });
}

function dirBytes(dir: string): number {
  return readdirSync(dir, { withFileTypes: true }).reduce((sum, entry) => {
    const path = join(dir, entry.name);
    return sum + (entry.isDirectory() ? dirBytes(path) : statSync(path).size);
  }, 0);
}

interface LambdaBundle {
  readonly stack: string;
  readonly function: string;
  readonly bytes: number;
  readonly gzipBytes: number;
}

/**
 * Sizes of the code assets behind every AWS::Lambda::Function, as synthesized: the function's
 * Code.S3Key (`<hash>.zip`) is looked up in the stack's asset manifest for the staged directory.
 */
function lambdaBundles(assembly: ReturnType<SynthApp['synth']>): LambdaBundle[] {
  const bundles: LambdaBundle[] = [];
  for (const stack of assembly.stacks) {
    const manifestFile = join(assembly.directory, `${stack.stackName}.assets.json`);
    const manifest = existsSync(manifestFile)
      ? (JSON.parse(readFileSync(manifestFile, 'utf8')) as { files?: Record<string, { source?: { path?: string } }> })
      : {};
    for (const [logicalId, resource] of Object.entries((stack.template as TemplateShape).Resources ?? {})) {
      const s3Key = (resource as { Properties?: { Code?: { S3Key?: unknown } } }).Properties?.Code?.S3Key;
      if (resource.Type !== 'AWS::Lambda::Function' || typeof s3Key !== 'string') continue;
      const assetPath = manifest.files?.[s3Key.replace(/\.zip$/, '')]?.source?.path;
      if (!assetPath) continue;
      const path = join(assembly.directory, assetPath);
      if (!existsSync(path)) continue;
      const files = statSync(path).isDirectory() ? readdirSync(path).map((f) => join(path, f)) : [path];
      const gzipBytes = files.filter((f) => statSync(f).isFile()).reduce((sum, f) => sum + gzipSync(readFileSync(f)).length, 0);
      bundles.push({
        stack: stack.stackName,
        function: logicalId,
        bytes: statSync(path).isDirectory() ? dirBytes(path) : statSync(path).size,
        gzipBytes,
      });
    }
  }
  return bundles;
}

interface HandlerBundleInfo {
  readonly name: string;
  readonly bytes: number;
  readonly gzipBytes?: number;
  readonly buildMs: number;
}

/** Handler bundles as lib/lambda/bundle.ts builds them (size, gzip, esbuild time once per process). */
function handlerBundles(): HandlerBundleInfo[] | NotAvailable {
  const file = join(ROOT, 'lib', 'lambda', 'bundle.ts');
  if (!existsSync(file)) return na('lib/lambda/bundle.ts not built yet');
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- optional module, see loadFactory
    const mod = require(file) as {
      lambdaBundleSizes?: () => Array<{ name: string; bytes: number; buildMs: number }>;
      bundleHandler?: (name: string) => { code: string };
    };
    if (typeof mod.lambdaBundleSizes !== 'function') return na('lib/lambda/bundle.ts does not export lambdaBundleSizes');
    return mod.lambdaBundleSizes().map((b) => ({
      ...b,
      gzipBytes: typeof mod.bundleHandler === 'function' ? gzipSync(mod.bundleHandler(b.name).code).length : undefined,
    }));
  } catch (error) {
    return na(`bundling failed: ${(error as Error).message.split('\n')[0]}`);
  }
}

function timeCommand(command: string, args: readonly string[], runs: number): { medianMs: number; runs: number } | NotAvailable {
  const times: number[] = [];
  const env = { ...process.env, AWS_EC2_METADATA_DISABLED: 'true', AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '', NO_COLOR: '1' };
  for (let run = 0; run < runs; run++) {
    const started = performance.now();
    const result = spawnSync(command, args, { cwd: ROOT, encoding: 'utf8', env, timeout: 120_000 });
    times.push(performance.now() - started);
    if (result.status !== 0) {
      const reason = (result.stderr || result.stdout || String(result.error ?? result.signal)).trim().split('\n')[0];
      return na(`\`${[command, ...args].join(' ').replace(ROOT + '/', '')}\` exited ${result.status ?? result.signal}: ${reason}`);
    }
  }
  return { medianMs: median(times), runs };
}

/** The built CLI if package.json "bin" points at one (built from the current code), else n/a. */
function builtCli(): string | NotAvailable {
  const bin = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { bin?: Record<string, string> }).bin?.['runner-fleet'];
  if (!bin) return na('package.json has no "bin" entry for runner-fleet');
  if (!existsSync(join(ROOT, 'bin', 'runner-fleet.ts'))) return na('bin/runner-fleet.ts not built yet');
  const scripts = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts?: Record<string, string> }).scripts ?? {};
  // The esbuild bundle takes a second, so it is rebuilt to measure the current code; a full tsc build only when missing.
  if (scripts['build:cli'] || !existsSync(join(ROOT, bin))) {
    const script = scripts['build:cli'] ? 'build:cli' : 'build';
    const build = spawnSync('npm', ['run', '--silent', script], { cwd: ROOT, encoding: 'utf8', timeout: 300_000 });
    if (build.status !== 0 || !existsSync(join(ROOT, bin)))
      return na(`\`npm run ${script}\` did not produce ${bin}: ${(build.stdout + build.stderr).trim().split('\n')[0]}`);
  }
  return join(ROOT, bin);
}

const fmtMs = (ms: number) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(0)} ms`);
const fmtKiB = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;
const show = (value: unknown, format: (v: never) => string) => (isNa(value) ? `n/a: ${value.na}` : format(value as never));

function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0].map((_, col) => Math.max(...rows.map((row) => row[col]?.length ?? 0)));
  return rows.map((row) => row.map((cell, col) => cell.padEnd(widths[col])).join('  ')).join('\n');
}

function main(): void {
  const results: Record<string, unknown> = {
    generatedAt: new Date().toISOString(),
    node: process.version,
    cpus: `${cpus().length} x ${cpus()[0]?.model ?? '?'}`,
  };
  const factory = loadFactory();

  // Synth time.
  console.log('\n## Synth time (in-process createFleetApp(...).synth(), median)');
  const timings: (SynthTiming | (NotAvailable & { fleets: number; nag: boolean }))[] = [];
  if (!isNa(factory)) {
    // Warm-up: module loading, JIT and the once-per-process Lambda bundling are not synth time.
    // The first synths of a process run several times slower than later ones.
    timeSynth(factory, 10, false, 2);
    timeSynth(factory, 10, true, 2);
  }
  // Sizes outer, nag inner: machine noise drifts over the run, so both modes see the same conditions.
  for (const fleets of SIZES) {
    for (const nag of [false, true]) {
      const timing = isNa(factory) ? factory : timeSynth(factory, fleets, nag, RUNS[fleets]);
      timings.push(isNa(timing) ? { ...timing, fleets, nag } : timing);
    }
  }
  results.synth = timings;
  const cold = coldCliSynth(100);
  results.coldCliSynth = cold;
  console.log(
    table([
      ['fleets', 'cdk-nag', 'runs', 'median', 'min', 'per fleet'],
      ...timings.map((t) =>
        isNa(t)
          ? [String(t.fleets), t.nag ? 'on' : 'off', '-', `n/a: ${t.na}`, '', '']
          : [String(t.fleets), t.nag ? 'on' : 'off', String(t.runs), fmtMs(t.medianMs), fmtMs(t.minMs), fmtMs(t.msPerFleet)],
      ),
    ]),
  );

  console.log(
    `\ncold \`cdk synth\` of 100 generated fleets (fresh process: CLI, tsx, bundling, cdk-nag on): ${show(
      cold,
      (v: { ms: number; stacks: number }) => `${fmtMs(v.ms)}, ${v.stacks} stacks`,
    )}`,
  );

  // Stack sizes and Lambda bundles from one 10-fleet synth.
  console.log('\n## Stacks (10 generated fleets, cdk-nag off)');
  let stacks: StackStats[] | NotAvailable = isNa(factory) ? factory : na('not measured');
  let bundles: LambdaBundle[] | NotAvailable = isNa(factory) ? factory : na('not measured');
  if (!isNa(factory)) {
    const outdir = mkdtempSync(join(tmpdir(), 'bench-stacks-'));
    try {
      const assembly = factory(benchConfig(10), { outdir, nag: false }).synth();
      stacks = stackStats(assembly);
      const found = lambdaBundles(assembly);
      bundles = found.length > 0 ? found : na('no AWS::Lambda::Function with a code asset in the synthesized stacks');
    } catch (error) {
      stacks = bundles = na(`synth failed: ${(error as Error).message.split('\n')[0]}`);
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  }
  if (isNa(stacks)) {
    console.log(`n/a: ${stacks.na}`);
  } else {
    const fleetStacks = stacks.filter((s) => s.kind === 'fleet');
    const range = (values: number[], fmt: (n: number) => string) =>
      values.length === 0
        ? '-'
        : Math.min(...values) === Math.max(...values)
          ? fmt(values[0])
          : `${fmt(Math.min(...values))} .. ${fmt(Math.max(...values))}`;
    console.log(
      table([
        ['stack', 'count', 'resources', 'template bytes'],
        [
          'per fleet stack',
          String(fleetStacks.length),
          range(
            fleetStacks.map((s) => s.resources),
            String,
          ),
          range(
            fleetStacks.map((s) => s.bytes),
            fmtKiB,
          ),
        ],
        ...stacks.filter((s) => s.kind === 'shared').map((s) => [s.stack, '1', String(s.resources), fmtKiB(s.bytes)]),
      ]),
    );
    results.stacks = {
      fleetStacks: fleetStacks.length,
      resourcesPerFleetStack: {
        min: Math.min(...fleetStacks.map((s) => s.resources)),
        max: Math.max(...fleetStacks.map((s) => s.resources)),
      },
      bytesPerFleetStack: { min: Math.min(...fleetStacks.map((s) => s.bytes)), max: Math.max(...fleetStacks.map((s) => s.bytes)) },
      all: stacks,
    };
  }
  if (isNa(stacks)) results.stacks = stacks;

  console.log('\n## Lambda bundles (synthesized code assets)');
  console.log(
    isNa(bundles)
      ? `n/a: ${bundles.na}`
      : table([['stack', 'function', 'bytes', 'gzip'], ...bundles.map((b) => [b.stack, b.function, fmtKiB(b.bytes), fmtKiB(b.gzipBytes)])]),
  );
  results.lambdaBundles = bundles;
  const handlers = handlerBundles();
  console.log('\nhandler bundles (lib/lambda/bundle.ts, esbuild, minified, AWS SDK included):');
  console.log(
    isNa(handlers)
      ? `n/a: ${handlers.na}`
      : table([
          ['handler', 'bytes', 'gzip', 'esbuild'],
          ...handlers.map((h) => [h.name, fmtKiB(h.bytes), h.gzipBytes === undefined ? '-' : fmtKiB(h.gzipBytes), fmtMs(h.buildMs)]),
        ]),
  );
  results.handlerBundles = handlers;

  results.catalogSynth = catalogSynthBench();

  // CLI start-up.
  console.log('\n## CLI start-up (median of 5)');
  const baseline = timeCommand(process.execPath, ['-e', ''], 5);
  const built = builtCli();
  const cliBuilt = isNa(built) ? built : timeCommand(process.execPath, [built, 'cost'], 5);
  const cliTsx = existsSync(join(ROOT, 'bin', 'runner-fleet.ts'))
    ? timeCommand(join(ROOT, 'node_modules', '.bin', 'tsx'), ['bin/runner-fleet.ts', 'cost'], 5)
    : na('bin/runner-fleet.ts not built yet');
  const cli = { nodeBaseline: baseline, runnerFleetCostBuilt: cliBuilt, runnerFleetCostTsx: cliTsx };
  results.cliStartup = cli;
  console.log(
    table([
      ['command', 'median'],
      ['node -e ""', show(baseline, (v: { medianMs: number }) => fmtMs(v.medianMs))],
      ['node dist/bin/runner-fleet.js cost', show(cliBuilt, (v: { medianMs: number }) => fmtMs(v.medianMs))],
      ['tsx bin/runner-fleet.ts cost', show(cliTsx, (v: { medianMs: number }) => fmtMs(v.medianMs))],
    ]),
  );

  writeFileSync(join(ROOT, 'bench', 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
  const synthLine = SIZES.map((n) => {
    const t = timings.find((x) => x.fleets === n && !x.nag);
    return `${n}: ${!t || isNa(t) ? 'n/a' : fmtMs(t.medianMs)}`;
  }).join(', ');
  const cliLine = isNa(cliBuilt) ? 'n/a' : fmtMs(cliBuilt.medianMs);
  console.log(`\nwrote bench/results.json`);
  console.log(
    `SUMMARY bench: synth (nag off) ${synthLine}; cold cdk synth of 100 fleets ${isNa(cold) ? 'n/a' : fmtMs(cold.ms)}; cli cost ${cliLine} vs node ${show(baseline, (v: { medianMs: number }) => fmtMs(v.medianMs))}`,
  );
}

if (require.main === module) {
  main();
  void runDemandBench();
}
