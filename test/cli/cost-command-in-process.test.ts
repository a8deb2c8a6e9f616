/**
 * `runner-fleet cost` run in-process through the commander program, as bin/runner-fleet.ts wires
 * it, with output captured. The child-process tests in cost-command.test.ts prove the bundle;
 * these pin the precedence rules (command line, then config, then defaults) and the --live path
 * with the AWS SDK mocked, so nothing leaves the machine.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeSpotPriceHistoryCommand, EC2Client } from '@aws-sdk/client-ec2';
import { GetProductsCommand, PricingClient } from '@aws-sdk/client-pricing';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { registerCostCommand } from '../../lib/cli/cost-command';
import { createProgram, runProgram, type CliOutput } from '../../lib/cli/program';
import { PRICE_SNAPSHOT } from '../../lib/cost/price-snapshot';

const SEED = 'examples/seed-comparison.yaml';
const work = mkdtempSync(join(tmpdir(), 'cost-in-process-'));
const pricingMock = mockClient(PricingClient);
const ec2Mock = mockClient(EC2Client);

afterEach(() => {
  pricingMock.reset();
  ec2Mock.reset();
  vi.restoreAllMocks();
});

/** A config with one always-on spot fleet and no `cost` section, so every default applies. */
const plainConfig = (() => {
  const file = join(work, 'plain.yaml');
  writeFileSync(
    file,
    `gitlab: { url: https://gitlab.com }
fleets:
  - { name: f1, computeType: spot, instanceTypes: [m6g.large], capacity: { max: 1, desired: 1 } }
`,
  );
  return file;
})();

async function cost(...args: string[]) {
  let stdout = '';
  let stderr = '';
  const output: CliOutput = { out: (t) => (stdout += t), err: (t) => (stderr += t) };
  const program = createProgram(output);
  registerCostCommand(program, output);
  const code = await runProgram(program, ['node', 'runner-fleet', 'cost', ...args], output);
  return { code, stdout, stderr };
}

async function costJson(...args: string[]) {
  const result = await cost(...args, '--format', 'json');
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout);
}

describe('runner-fleet cost, in-process: precedence', () => {
  it('reproduces the seed from the config cost section alone, with nothing on stderr', async () => {
    const { code, stdout, stderr } = await cost('--config', SEED, '--format', 'json');

    expect([code, stderr]).toEqual([0, '']);
    expect(JSON.parse(stdout).fleets[0]).toMatchObject({ uptimeHoursPerWeek: 40, weeklyCost: 1.07264, savingsPercent: 96.67 });
  });

  it('prices us-east-1 when neither the command line nor the config names a region', async () => {
    const json = await costJson('--config', plainConfig);

    expect(json.priceSource).toEqual({ kind: 'snapshot', date: PRICE_SNAPSHOT.date, region: 'us-east-1' });
  });

  it('lets --region win over cost.region of the config', async () => {
    const json = await costJson('--config', SEED, '--region', 'eu-central-1');

    expect(json.priceSource.region).toBe('eu-central-1');
  });

  it('compares with m5.xlarge when neither the command line nor the config names a baseline', async () => {
    const implicit = await costJson('--config', plainConfig);
    const explicit = await costJson('--config', plainConfig, '--baseline-type', 'm5.xlarge');
    const other = await costJson('--config', plainConfig, '--baseline-type', 'c7g.xlarge');

    expect(implicit.total.baselineWeeklyCost).toBe(explicit.total.baselineWeeklyCost);
    expect(other.total.baselineWeeklyCost).not.toBe(implicit.total.baselineWeeklyCost);
  });

  it('lets --baseline-type win over cost.baselineInstanceType of the config', async () => {
    const json = await costJson('--config', SEED, '--baseline-type', 'm6g.xlarge', '--price', 'm6g.xlarge:on-demand=0.154');

    expect(json.fleets[0].baselineWeeklyCost).toBe(25.872);
  });

  it('lets --graviton-factor win over cost.gravitonPerformanceFactor of the config', async () => {
    const json = await costJson('--config', SEED, '--graviton-factor', '1');

    expect(json.fleets[0].weeklyCost).toBe(1.676);
  });

  it('lets --price win over cost.prices of the config for the same type and kind', async () => {
    const json = await costJson('--config', SEED, '--price', 'm6g.large:spot=0.05');

    expect(json.fleets[0].weeklyCost).toBe(1.28);
  });

  it('counts the local hours of the calendar week given by --week', async () => {
    const file = join(work, 'night.yaml');
    writeFileSync(
      file,
      `gitlab: { url: https://gitlab.com }
fleets:
  - name: night
    computeType: spot
    instanceTypes: [m6g.large]
    capacity: { max: 1, desired: 1 }
    schedule: { timeZone: Europe/Berlin, maxJitterMinutes: 0, windows: [{ days: sun, start: "00:00", end: "06:00" }] }
`,
    );

    const typical = await costJson('--config', file);
    const dstWeek = await costJson('--config', file, '--week', '2026-03-29');

    expect([typical.fleets[0].uptimeHoursPerWeek, dstWeek.fleets[0].uptimeHoursPerWeek]).toEqual([6, 5]);
  });
});

describe('runner-fleet cost, in-process: formats and errors', () => {
  it('prints a table naming the config file and region by default', async () => {
    const { code, stdout } = await cost('--config', SEED);

    expect(code).toBe(0);
    expect(stdout).toContain(`Cost estimate for ${SEED}, us-east-1, USD`);
  });

  it('prints a markdown table with --format markdown', async () => {
    const { stdout } = await cost('--config', SEED, '--format', 'markdown');

    expect(stdout).toContain('| Fleet | Schedule | Spot | Graviton | Total saved/wk | Saved |');
  });

  it('reports a type without a price as one line naming --price, exit 1, nothing on stdout', async () => {
    const file = join(work, 'unpriced.yaml');
    writeFileSync(
      file,
      `gitlab: { url: https://gitlab.com }
fleets:
  - { name: f1, computeType: spot, instanceTypes: [m9g.large], capacity: { max: 1, desired: 1 } }
`,
    );

    const { code, stdout, stderr } = await cost('--config', file);

    expect([code, stdout]).toEqual([1, '']);
    expect(stderr).toMatch(/^runner-fleet: no spot price for m9g.large in us-east-1 .* --price m9g.large:spot=<USD per hour>\n$/);
  });

  it('writes to the process streams when registered without an output', async () => {
    const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const program = createProgram();
    registerCostCommand(program);

    const code = await runProgram(program, ['node', 'runner-fleet', 'cost', '--config', SEED, '--format', 'json']);

    expect(code).toBe(0);
    expect(JSON.parse(String(write.mock.calls.map((c) => c[0]).join(''))).fleets[0].weeklyCost).toBe(1.07264);
  });
});

describe('runner-fleet cost, in-process: default output', () => {
  it('reports a user mistake on the process stderr when registered without an output', async () => {
    const write = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const program = createProgram();
    registerCostCommand(program);

    const code = await runProgram(program, ['node', 'runner-fleet', 'cost', '--config', join(work, 'missing.yaml')]);

    expect(code).toBe(1);
    expect(write.mock.calls.map((c) => String(c[0])).join('')).toMatch(
      /^runner-fleet: .*missing\.yaml: file not found; pass the path of your config with --config <file>/,
    );
  });
});

describe('runner-fleet cost --live, in-process with the AWS SDK mocked', () => {
  it('asks AWS for every fleet type and the default baseline, and prices from the answers', async () => {
    pricingMock.on(GetProductsCommand).resolves({ PriceList: [] });
    ec2Mock.on(DescribeSpotPriceHistoryCommand).resolves({
      SpotPriceHistory: [{ InstanceType: 'm6g.large', AvailabilityZone: 'us-east-1a', SpotPrice: '0.0300', Timestamp: new Date() }],
    });

    const json = await costJson('--config', plainConfig, '--live');

    const asked = pricingMock
      .commandCalls(GetProductsCommand)
      .map((c) => c.args[0].input.Filters?.find((f) => f.Field === 'instanceType')?.Value);
    expect(asked).toEqual(['m6g.large', 'm5.xlarge']);
    expect(json.priceSource.kind).toBe('live');
    expect(json.fleets[0].weeklyCost).toBe(5.04);
  });

  it('prints the price book warnings on stderr and keeps stdout pure JSON', async () => {
    pricingMock.on(GetProductsCommand).resolves({ PriceList: [] });
    ec2Mock.on(DescribeSpotPriceHistoryCommand).resolves({ SpotPriceHistory: [] });

    const { code, stdout, stderr } = await cost('--config', SEED, '--live', '--format', 'json');

    expect(code).toBe(0);
    expect(JSON.parse(stdout).fleets[0].weeklyCost).toBe(1.07264);
    expect(stderr).toContain("warning: no live on-demand price for m6g.large in us-east-1; using the snapshot's\n");
    expect(stderr).toContain("warning: no live spot price for m5.xlarge in us-east-1; using the snapshot's\n");
  });

  it('uses the config baseline, not the default, as the extra type to price', async () => {
    pricingMock.on(GetProductsCommand).resolves({ PriceList: [] });
    ec2Mock.on(DescribeSpotPriceHistoryCommand).resolves({ SpotPriceHistory: [] });

    await cost('--config', SEED, '--live', '--baseline-type', 'c6i.xlarge', '--price', 'c6i.xlarge:on-demand=0.17');

    expect(ec2Mock.commandCalls(DescribeSpotPriceHistoryCommand)[0].args[0].input.InstanceTypes).toEqual(['m6g.large', 'c6i.xlarge']);
  });
});
