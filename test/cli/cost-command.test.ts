/**
 * `runner-fleet cost` end to end: the CLI bundled exactly as `npm run build:cli` bundles it,
 * run as a child process. Nothing leaves the machine: --live runs without credentials and
 * with the instance metadata service disabled, so the SDK gives up before any request.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bundledCli } from '../support/cli-bundle';

const work = mkdtempSync(join(tmpdir(), 'runner-fleet-cli-'));
const cli = bundledCli();

function run(args: string[], env: Record<string, string> = {}) {
  const result = spawnSync(process.execPath, [cli, ...args], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '', HOME: work, ...env },
    timeout: 30_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

function configFile(name: string, text: string): string {
  const file = join(work, name);
  writeFileSync(file, text);
  return file;
}

const fleetYaml = (instanceType: string) => `gitlab: { url: https://gitlab.com }
fleets:
  - { name: f1, computeType: spot, instanceTypes: [${instanceType}], capacity: { max: 2, desired: 1 } }
`;

/** A stack trace line, which a user mistake must never print. */
const STACK = /^\s+at .+\(.+:\d+:\d+\)|^\s+at .+:\d+:\d+$/m;

describe('runner-fleet cost', () => {
  it('reproduces the seed as JSON from examples/seed-comparison.yaml', () => {
    const { code, stdout } = run(['cost', '--config', 'examples/seed-comparison.yaml', '--format', 'json']);
    expect(code).toBe(0);
    const json = JSON.parse(stdout);
    expect(json.fleets[0]).toMatchObject({
      uptimeHoursPerWeek: 40,
      weeklyCost: 1.07264,
      baselineWeeklyCost: 32.256,
      savingsPercent: 96.67,
      runnerMinutesPerHour: 600,
    });
    expect(json.priceSource).toEqual({ kind: 'snapshot', date: '2026-01-01', region: 'us-east-1' });
  });

  it('prints a table by default, with the snapshot date', () => {
    const { code, stdout } = run(['cost']);
    expect(code).toBe(0);
    expect(stdout).toContain('Cost estimate for fleet.config.yaml, us-east-1, USD');
    expect(stdout).toContain('Prices: snapshot 2026-01-01');
  });

  it('prints markdown on request', () => {
    const { code, stdout } = run(['cost', '--format', 'markdown']);
    expect(code).toBe(0);
    expect(stdout).toContain('| Fleet | Schedule | Spot | Graviton | Total saved/wk | Saved |');
  });

  it('applies command-line prices, factor and hours over the config', () => {
    const { stdout } = run([
      'cost',
      '-c',
      'examples/seed-comparison.yaml',
      '-f',
      'json',
      '--price',
      'm6g.large:spot=0.05',
      '--graviton-factor',
      '1',
      '--hours-per-week',
      '10',
    ]);
    expect(JSON.parse(stdout).fleets[0]).toMatchObject({ uptimeHoursPerWeek: 10, weeklyCost: 0.5 });
  });

  it('counts real hours of a DST week with --week', () => {
    const file = configFile(
      'night.yaml',
      `gitlab: { url: https://gitlab.com }
fleets:
  - name: night
    computeType: spot
    instanceTypes: [m6g.large]
    capacity: { max: 1, desired: 1 }
    schedule: { timeZone: Europe/Berlin, maxJitterMinutes: 0, windows: [{ days: sun, start: "00:00", end: "06:00" }] }
`,
    );
    expect(JSON.parse(run(['cost', '-c', file, '-f', 'json', '--week', '2026-03-29']).stdout).fleets[0].uptimeHoursPerWeek).toBe(5);
  });

  it('falls back to the snapshot with a warning when --live has no credentials', () => {
    const { code, stdout, stderr } = run(['cost', '--live', '--format', 'json'], { AWS_EC2_METADATA_DISABLED: 'true' });
    expect(code).toBe(0);
    expect(JSON.parse(stdout).priceSource.kind).toBe('snapshot');
    expect(stderr).toContain('warning: live prices unavailable (no AWS credentials');
  });
});

describe('runner-fleet cost, user mistakes', () => {
  it.each([
    [
      'a missing config file',
      ['cost', '--config', 'no-such-file.yaml'],
      'runner-fleet: no-such-file.yaml: file not found; pass the path of your config with --config <file>',
    ],
    ['a region without a snapshot', ['cost', '--region', 'ap-south-1'], 'runner-fleet: no price snapshot for region "ap-south-1"'],
    [
      'a bad format',
      ['cost', '--format', 'xml'],
      "error: option '-f, --format <format>' argument 'xml' is invalid. Allowed choices are table, json, markdown.",
    ],
    [
      'a bad hours value',
      ['cost', '--hours-per-week', 'lots'],
      "error: option '--hours-per-week <hours>' argument 'lots' is invalid. must be a number > 0 and <= 168",
    ],
    ['a bad price', ['cost', '--price', 'm6g.large:cheap=1'], '"cheap" is not a price kind (allowed: spot, on-demand)'],
    [
      'a bad baseline type',
      ['cost', '--baseline-type', 'huge'],
      "error: option '--baseline-type <type>' argument 'huge' is invalid. must be an EC2 instance type",
    ],
    ['a bad week', ['cost', '--week', '2026-13-01'], 'must be a date YYYY-MM-DD'],
    ['an unknown option', ['cost', '--colour'], "error: unknown option '--colour'"],
  ])('reports %s in one message, exit 1, no stack trace', (_what, args, message) => {
    const { code, stdout, stderr } = run(args);
    expect(code).toBe(1);
    expect(stderr).toContain(message);
    expect(stderr).not.toMatch(STACK);
    expect(stdout).toBe('');
  });

  it('reports an instance type without a price, naming the ways to price it', () => {
    const { code, stderr } = run(['cost', '-c', configFile('m9g.yaml', fleetYaml('m9g.large'))]);
    expect(code).toBe(1);
    expect(stderr).toBe(
      'runner-fleet: no spot price for m9g.large in us-east-1 (snapshot prices, 2026-01-01); add it to the config as cost.prices["m9g.large"].spot or pass --price m9g.large:spot=<USD per hour>\n',
    );
  });

  it('reports every problem of an invalid config with its path', () => {
    const file = configFile(
      'invalid.yaml',
      'gitlab: { url: http://gitlab.com }\nfleets: []\ncost: { gravitonPerformanceFactor: 0, baselineInstanceType: huge }\n',
    );
    const { code, stderr } = run(['cost', '-c', file]);
    expect(code).toBe(1);
    expect(stderr).toMatch(/is not a valid fleet configuration \(4 problems\):/);
    expect(stderr).toContain('  - cost.baselineInstanceType: must be an EC2 instance type such as m5.xlarge');
    expect(stderr).toContain('  - cost.gravitonPerformanceFactor:');
    expect(stderr).not.toMatch(STACK);
  });
});

describe('the bundled CLI', () => {
  const bundle = () => readFileSync(cli, 'utf8');

  it('contains no CDK code', () => expect(bundle()).not.toMatch(/aws-cdk-lib|from "constructs"|require\("constructs"\)/));

  it('loads no AWS SDK module for a snapshot estimate, so start-up stays fast', () => {
    // GIVEN a preload that records every module the CLI process loads
    const loaded = join(work, 'loaded-modules.txt');
    const recorder = join(work, 'record-loads.cjs');
    writeFileSync(
      recorder,
      `const Module = require('module'); const fs = require('fs'); const load = Module._load;
       Module._load = function (request, ...rest) { fs.appendFileSync(${JSON.stringify(loaded)}, request + '\\n'); return load.call(this, request, ...rest); };`,
    );
    // WHEN the cost estimate runs from the snapshot
    const result = spawnSync(process.execPath, ['--require', recorder, cli, 'cost', '--config', 'fleet.config.yaml', '--format', 'json'], {
      encoding: 'utf8',
    });
    // THEN it succeeds without loading any @aws-sdk package (they are only imported for --live and orphans)
    expect(result.status).toBe(0);
    const modules = readFileSync(loaded, 'utf8').split('\n');
    expect(modules).toContain('node:fs'); // the recorder saw the CLI's own loads
    expect(modules.filter((m) => m.startsWith('@aws-sdk/'))).toEqual([]);
    expect(bundle()).toMatch(/await import\("@aws-sdk\/client-pricing"\)/);
  });

  it('prints help and exits 0', () => {
    const { code, stdout } = run(['cost', '--help']);
    expect(code).toBe(0);
    expect(stdout).toContain('--baseline-type <type>');
  });
});
