/**
 * Builders for construct and stack tests: a fleet spec from raw config (through the real
 * validator, so tests use what users get), a stack with a fixed account/region and a VPC,
 * and a RunnerFleet template.
 */
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { parseFleetConfig, type FleetConfig, type FleetSpec, type GitLabSettings } from '../../lib/config';
import { RunnerFleet, type RunnerFleetProps } from '../../lib/fleet/runner-fleet';
import { createFleetApp } from '../../lib/stacks/fleet-app';

export const TEST_ENV = { account: '123456789012', region: 'eu-central-1' } as const;
export const TEST_GITLAB: GitLabSettings = { url: 'https://gitlab.example.com' };

/** A minimal valid raw fleet; override any key. */
export function rawFleet(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: 'test-fleet',
    computeType: 'spot',
    instanceTypes: ['m7g.large', 'm6g.large'],
    capacity: { min: 0, max: 4, desired: 2 },
    ...overrides,
  };
}

/** A validated config with the given raw fleets. */
export function testConfig(fleets: Record<string, unknown>[] = [rawFleet()], extra: Record<string, unknown> = {}): FleetConfig {
  return parseFleetConfig({ gitlab: { url: TEST_GITLAB.url }, fleets, ...extra });
}

/** One validated FleetSpec. */
export function fleetSpec(overrides: Record<string, unknown> = {}): FleetSpec {
  return testConfig([rawFleet(overrides)]).fleets[0];
}

export interface FleetUnderTest {
  readonly stack: Stack;
  readonly fleet: RunnerFleet;
  readonly template: Template;
}

/** GIVEN a stack with a two-AZ public VPC WHEN a RunnerFleet is added. */
export function buildFleet(overrides: Record<string, unknown> = {}, props: Partial<RunnerFleetProps> = {}): FleetUnderTest {
  const app = new App({ builtinCloudFormationValidation: false });
  const stack = new Stack(app, 'TestStack', { env: TEST_ENV });
  const vpc = new ec2.Vpc(stack, 'Vpc', {
    maxAzs: 2,
    natGateways: 0,
    subnetConfiguration: [{ name: 'public', subnetType: ec2.SubnetType.PUBLIC }],
  });
  const fleet = new RunnerFleet(stack, 'Fleet', {
    fleet: fleetSpec(overrides),
    gitlab: TEST_GITLAB,
    vpc,
    vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC },
    ...props,
  });
  return { stack, fleet, template: Template.fromStack(stack) };
}

/** Synthesizes a whole fleet app into a fresh directory; returns the directory. */
export function synthFleetApp(config: FleetConfig, options: { nag?: boolean } = {}): string {
  const outdir = mkdtempSync(join(tmpdir(), 'fleet-app-'));
  createFleetApp(config, { outdir, nag: options.nag, cloudFormationValidation: false }).synth();
  return outdir;
}

/** Every file of a cloud assembly directory, path -> content. */
export function readAssembly(outdir: string): Map<string, string> {
  const files = new Map<string, string>();
  const walk = (dir: string, prefix: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path, `${prefix}${entry.name}/`);
      else files.set(`${prefix}${entry.name}`, readFileSync(path, 'utf8'));
    }
  };
  walk(outdir, '');
  return files;
}

/** The resources of one type in a template, logical id -> resource. */
export function resourcesOfType(template: Template, type: string): Record<string, { Properties: Record<string, unknown> }> {
  return template.findResources(type) as Record<string, { Properties: Record<string, unknown> }>;
}
