/**
 * `npm run bench`: how fast a user's commands are, as ratios against a floor measured in the
 * same run, with the machine's load average beside each ratio (a loaded machine slows every
 * command; the ratios are what to compare between runs).
 *
 * - Cold `cdk synth` (a fresh CDK CLI and app process, same CLI and flags) of the bundled config
 *   and of generated configs of 1, 10 and 100 fleets, against bench/minimal-app: one stack, one
 *   Auto Scaling group with a launch template, on aws-cdk-lib defaults. Runs are interleaved
 *   (floor, ours, floor, ours, ...) so drifting load hits both alike; medians are compared.
 *   The Lambda bundle cache is warm, as it is from the second synth after a source change;
 *   one extra synth with an empty cache shows the first one.
 * - What `cdk synth` writes: bytes and resources of the template files on disk (10 fleets).
 * - Peak memory (max RSS) of the app process at 100 and 1,000 fleets.
 * - `runner-fleet cost` start-up against `node -e ""`, and a 300-fleet cost run against a
 *   2-fleet one.
 *
 * Prints tables and writes bench/results.json (gitignored). Runs per measurement: BENCH_RUNS
 * (default 3 for synth, 7 for the CLI).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { bundleCacheDir, lambdaBundleSizes } from '../lib/lambda/bundle';
import { catalogSynthBench } from './catalog-bench';
import { runDemandBench } from './demand-bench';

const ROOT = join(__dirname, '..');
const CDK = join(ROOT, 'node_modules', '.bin', 'cdk');
const SYNTH_RUNS = Number(process.env.BENCH_RUNS ?? 3);
const CLI_RUNS = Number(process.env.BENCH_RUNS ?? 7);
/** The issue's targets, printed beside the ratios. */
const TARGETS = { synthVsMinimal: 0.7, cliVsNode: 2, cost300Vs2: 2 } as const;

/** Generated fleets: alternating Graviton spot / on-demand, every third spot fleet with an on-demand floor, one deployment. */
export function rawBenchConfig(fleets: number): Record<string, unknown> {
  return {
    deployment: 'bench',
    gitlab: { url: 'https://gitlab.example.com' },
    orphanReaper: { enabled: true },
    fleets: Array.from({ length: fleets }, (_, i) => {
      const spot = i % 2 === 0;
      return {
        name: `bench-${String(i).padStart(4, '0')}`,
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

const scratch = mkdtempSync(join(tmpdir(), 'bench-'));
const baseEnv = {
  ...process.env,
  AWS_EC2_METADATA_DISABLED: 'true',
  AWS_ACCESS_KEY_ID: '',
  AWS_SECRET_ACCESS_KEY: '',
  CDK_DISABLE_VERSION_CHECK: 'true',
  CDK_DISABLE_CLI_TELEMETRY: 'true',
  NO_COLOR: '1',
};

function configFile(fleets: number): string {
  const file = join(scratch, `fleets-${fleets}.json`);
  writeFileSync(file, JSON.stringify(rawBenchConfig(fleets)));
  return file;
}

const load = () => loadavg()[0];
const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

interface Timed {
  readonly ms: number;
  readonly load: number;
}

/** Runs a command once; throws with its last output line if it fails. */
function timeOnce(command: string, args: readonly string[], env: NodeJS.ProcessEnv = baseEnv): Timed {
  const before = load();
  const started = performance.now();
  const result = spawnSync(command, args, { cwd: ROOT, encoding: 'utf8', env, timeout: 30 * 60_000, maxBuffer: 64 * 1024 * 1024 });
  const ms = performance.now() - started;
  if (result.status !== 0) {
    const last = `${result.stderr}${result.stdout}`.trim().split('\n').slice(-1)[0];
    throw new Error(`\`${[command, ...args].join(' ').replaceAll(ROOT + '/', '')}\` exited ${result.status ?? result.signal}: ${last}`);
  }
  return { ms, load: (before + load()) / 2 };
}

/** `cdk synth` as a user runs it, into a fresh directory; `app` replaces cdk.json's app (the minimal floor). */
function cdkSynth(options: { config?: string; app?: string; outdir: string; env?: NodeJS.ProcessEnv }): Timed {
  const args = ['synth', '--quiet', '--no-notices', '-o', options.outdir];
  if (options.app) args.push('-a', options.app);
  if (options.config) args.push('-c', `config=${options.config}`);
  rmSync(options.outdir, { recursive: true, force: true });
  return timeOnce(CDK, args, options.env);
}

/** Interleaved runs of a floor and of each candidate; medians, and each candidate's ratio to the floor. */
function compare(
  floor: () => Timed,
  candidates: Record<string, () => Timed>,
  runs: number,
): { floorMs: number; rows: Array<{ name: string; ms: number; ratio: number; load: number }> } {
  const floorTimes: Timed[] = [];
  const times: Record<string, Timed[]> = Object.fromEntries(Object.keys(candidates).map((k) => [k, []]));
  for (let run = 0; run < runs; run++) {
    floorTimes.push(floor());
    for (const [name, candidate] of Object.entries(candidates)) times[name].push(candidate());
  }
  const floorMs = median(floorTimes.map((t) => t.ms));
  return {
    floorMs,
    rows: Object.entries(times).map(([name, ts]) => {
      const ms = median(ts.map((t) => t.ms));
      return { name, ms, ratio: ms / floorMs, load: median([...ts, ...floorTimes].map((t) => t.load)) };
    }),
  };
}

/** Bytes and resources of every template file `cdk synth` wrote. */
function writtenStacks(outdir: string): Array<{ stack: string; resources: number; bytes: number; kind: 'fleet' | 'shared' }> {
  return readdirSync(outdir)
    .filter((f) => f.endsWith('.template.json'))
    .map((f) => {
      const template = JSON.parse(readFileSync(join(outdir, f), 'utf8')) as { Resources?: Record<string, { Type: string }> };
      const resources = Object.values(template.Resources ?? {});
      return {
        stack: f.replace(/\.template\.json$/, ''),
        resources: resources.length,
        bytes: statSync(join(outdir, f)).size,
        kind: resources.some((r) => r.Type === 'AWS::AutoScaling::AutoScalingGroup') ? 'fleet' : 'shared',
      };
    });
}

/** Peak RSS (MiB) and time of the app process (bin/app.ts as cdk.json launches it) for a config. */
function appPeakMemory(fleets: number): { fleets: number; peakMiB: number; seconds: number; load: number } {
  const peakFile = join(scratch, `peak-${fleets}.txt`);
  const outdir = join(scratch, `peak-out-${fleets}`);
  const app = (JSON.parse(readFileSync(join(ROOT, 'cdk.json'), 'utf8')) as { app: string }).app.split(' ');
  const timed = timeOnce(app[0], [`--require=${join(__dirname, 'peak-memory.js')}`, ...app.slice(1)], {
    ...baseEnv,
    BENCH_PEAK_FILE: peakFile,
    CDK_OUTDIR: outdir,
    CDK_CONTEXT_JSON: JSON.stringify({ config: configFile(fleets) }),
  });
  rmSync(outdir, { recursive: true, force: true });
  return { fleets, peakMiB: Number(readFileSync(peakFile, 'utf8')) / 1024, seconds: timed.ms / 1000, load: timed.load };
}

const fmtMs = (ms: number) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(0)} ms`);
const fmtKiB = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;
const fmtRatio = (ratio: number, target: number) => `${ratio.toFixed(2)}x (target <= ${target}x: ${ratio <= target ? 'met' : 'NOT met'})`;

function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0].map((_, col) => Math.max(...rows.map((row) => row[col]?.length ?? 0)));
  return rows.map((row) => row.map((cell, col) => cell.padEnd(widths[col])).join('  ')).join('\n');
}

function main(): void {
  const results: Record<string, unknown> = {
    generatedAt: new Date().toISOString(),
    node: process.version,
    cpus: `${cpus().length} x ${cpus()[0]?.model ?? '?'}`,
    loadAverageAtStart: loadavg(),
  };
  console.log(
    `node ${process.version}, ${results.cpus as string}, load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );

  // Warm the Lambda bundle cache once, as any synth after a source change does.
  lambdaBundleSizes();
  const configs = Object.fromEntries([1, 10, 100].map((n) => [n, configFile(n)]));

  console.log(`\n## Cold \`cdk synth\` against the minimal aws-cdk-lib app (same CLI and flags, median of ${SYNTH_RUNS}, interleaved)`);
  const synth = compare(
    () => cdkSynth({ app: 'node bench/minimal-app/app.js', outdir: join(scratch, 'minimal') }),
    {
      'bundled fleet.config.yaml': () => cdkSynth({ outdir: join(scratch, 'bundled') }),
      ...Object.fromEntries(
        Object.entries(configs).map(([n, file]) => [
          `${n} generated fleets`,
          () => cdkSynth({ config: file, outdir: join(scratch, `gen-${n}`) }),
        ]),
      ),
    },
    SYNTH_RUNS,
  );
  const emptyCache = cdkSynth({
    outdir: join(scratch, 'empty-cache'),
    env: { ...baseEnv, GITLAB_RUNNER_FLEET_BUNDLE_DIR: join(scratch, 'no-bundles') },
  });
  console.log(
    table([
      ['app', 'median', 'vs minimal', 'load avg'],
      ['minimal app (1 stack, 1 ASG + launch template)', fmtMs(synth.floorMs), '1.00x', ''],
      ...synth.rows.map((r) => [
        r.name,
        fmtMs(r.ms),
        r.name.startsWith('bundled') ? fmtRatio(r.ratio, TARGETS.synthVsMinimal) : `${r.ratio.toFixed(2)}x`,
        r.load.toFixed(2),
      ]),
      [
        'bundled, empty Lambda bundle cache (first synth after a source change)',
        fmtMs(emptyCache.ms),
        `${(emptyCache.ms / synth.floorMs).toFixed(2)}x`,
        emptyCache.load.toFixed(2),
      ],
    ]),
  );
  const at = (name: string) => synth.rows.find((r) => r.name === name)?.ms ?? Number.NaN;
  const perFleetMs = (at('100 generated fleets') - at('10 generated fleets')) / 90;
  console.log(`marginal cost per extra fleet (10 -> 100 fleets): ${fmtMs(perFleetMs)}`);
  results.coldSynth = { minimalMs: synth.floorMs, rows: synth.rows, emptyBundleCacheMs: emptyCache.ms, perFleetMs };

  console.log('\n## What `cdk synth` writes (10 generated fleets, template files on disk)');
  const stacks = writtenStacks(join(scratch, 'gen-10'));
  const fleetStacks = stacks.filter((s) => s.kind === 'fleet');
  const range = (values: number[], fmt: (n: number) => string) =>
    Math.min(...values) === Math.max(...values) ? fmt(values[0]) : `${fmt(Math.min(...values))} .. ${fmt(Math.max(...values))}`;
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
  results.writtenStacks = stacks;

  console.log('\n## Lambda handler bundles (esbuild, minified, AWS SDK included; cached on disk by source hash)');
  const handlers = lambdaBundleSizes();
  console.log(table([['handler', 'bytes', 'from cache'], ...handlers.map((h) => [h.name, fmtKiB(h.bytes), h.fromCache ? 'yes' : 'no'])]));
  console.log(`cache: ${bundleCacheDir()}`);
  results.handlerBundles = handlers;

  results.catalogSynth = catalogSynthBench();

  console.log('\n## Peak memory of the app process (max RSS)');
  const memory = [100, 1000].map(appPeakMemory);
  console.log(
    table([
      ['fleets', 'peak RSS', 'app time', 'load avg'],
      ...memory.map((m) => [String(m.fleets), `${m.peakMiB.toFixed(0)} MiB`, `${m.seconds.toFixed(1)} s`, m.load.toFixed(2)]),
    ]),
  );
  results.peakMemory = memory;

  console.log(`\n## CLI (median of ${CLI_RUNS}, interleaved)`);
  const build = spawnSync('npm', ['run', '--silent', 'build:cli'], { cwd: ROOT, encoding: 'utf8' });
  if (build.status !== 0) throw new Error(`npm run build:cli failed: ${build.stderr}`);
  const cli = join(ROOT, 'dist', 'bin', 'runner-fleet.js');
  const startup = compare(
    () => timeOnce(process.execPath, ['-e', '']),
    { 'runner-fleet cost (bundled config)': () => timeOnce(process.execPath, [cli, 'cost']) },
    CLI_RUNS,
  );
  const [two, three] = [configFile(2), configFile(300)];
  const scale = compare(
    () => timeOnce(process.execPath, [cli, 'cost', '--config', two]),
    { 'runner-fleet cost, 300 fleets': () => timeOnce(process.execPath, [cli, 'cost', '--config', three]) },
    CLI_RUNS,
  );
  console.log(
    table([
      ['command', 'median', 'ratio', 'load avg'],
      ['node -e ""', fmtMs(startup.floorMs), '1.00x', ''],
      ...startup.rows.map((r) => [r.name, fmtMs(r.ms), `${fmtRatio(r.ratio, TARGETS.cliVsNode)} vs node -e ""`, r.load.toFixed(2)]),
      ['runner-fleet cost, 2 fleets', fmtMs(scale.floorMs), '1.00x', ''],
      ...scale.rows.map((r) => [r.name, fmtMs(r.ms), `${fmtRatio(r.ratio, TARGETS.cost300Vs2)} vs 2 fleets`, r.load.toFixed(2)]),
    ]),
  );
  results.cli = { startup, scale };

  writeFileSync(join(ROOT, 'bench', 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
  const bundled = synth.rows.find((r) => r.name.startsWith('bundled'));
  console.log('\nwrote bench/results.json');
  console.log(
    `SUMMARY bench: synth vs minimal ${bundled?.ratio.toFixed(2)}x, cli vs node ${startup.rows[0].ratio.toFixed(2)}x, cost 300 vs 2 fleets ${scale.rows[0].ratio.toFixed(2)}x, peak RSS ${memory.map((m) => `${m.fleets}: ${m.peakMiB.toFixed(0)} MiB`).join(', ')} (load ${load().toFixed(2)})`,
  );
}

if (require.main === module) {
  try {
    main();
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  void runDemandBench();
}
