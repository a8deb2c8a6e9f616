import { App, Stack } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { describe, expect, it } from 'vitest';
import type { FleetSpec } from '../../lib/config';
import { RunnerLaunchTemplate } from '../../lib/fleet/fleet-launch-template';
import { RunnerFleet } from '../../lib/fleet/runner-fleet';
import { fleetSpec, TEST_GITLAB } from '../support/stack-helpers';

function stackWithVpc() {
  const stack = new Stack(new App(), 'S');
  const vpc = new ec2.Vpc(stack, 'Vpc', { natGateways: 0, subnetConfiguration: [{ name: 'p', subnetType: ec2.SubnetType.PUBLIC }] });
  return { stack, vpc };
}

function build(fleet: FleetSpec): RunnerFleet {
  const { stack, vpc } = stackWithVpc();
  return new RunnerFleet(stack, 'Fleet', { fleet, gitlab: TEST_GITLAB, vpc });
}

describe('RunnerFleet props validation, construct used without the YAML', () => {
  it('rejects onDemandBase above capacity.max on a spot fleet, naming both', () => {
    const fleet = { ...fleetSpec({ capacity: { min: 0, max: 2, desired: 1 } }), onDemandBase: 3 };

    expect(() => build(fleet)).toThrow(/fleet\.onDemandBase \(3\) must be <= fleet\.capacity\.max \(2\)/);
  });

  it('rejects a negative onDemandBase', () => {
    expect(() => build({ ...fleetSpec(), onDemandBase: -1 })).toThrow(/fleet\.onDemandBase \(-1\) must be >= 0/);
  });

  it('rejects capacity.max below 1', () => {
    const fleet = { ...fleetSpec(), capacity: { min: 0, max: 0, desired: 0 } };

    expect(() => build(fleet)).toThrow(/fleet\.capacity\.max \(0\) must be >= 1/);
  });

  it.each([0, 2.5])('rejects maxJobTimeoutMinutes %s, asking for a whole number >= 1', (minutes) => {
    expect(() => build({ ...fleetSpec(), maxJobTimeoutMinutes: minutes })).toThrow(
      `fleet.maxJobTimeoutMinutes (${minutes}) must be a whole number >= 1`,
    );
  });

  it.each([0, 1.5])('rejects concurrency %s, asking for a whole number >= 1', (concurrency) => {
    expect(() => build({ ...fleetSpec(), concurrency })).toThrow(`fleet.concurrency (${concurrency}) must be a whole number >= 1`);
  });

  it('names the fleet in the error', () => {
    expect(() => build({ ...fleetSpec({ name: 'named-fleet' }), concurrency: 0 })).toThrow(/^RunnerFleet "named-fleet": invalid props:/);
  });

  it('accepts onDemandBase 0 on an on-demand fleet', () => {
    expect(() => build({ ...fleetSpec({ computeType: 'on-demand' }), onDemandBase: 0 })).not.toThrow();
  });
});

describe('RunnerFleet drain cap warning', () => {
  it('warns that jobs longer than the 48 h lifecycle limit are cut at scale-in', () => {
    // GIVEN a job timeout above 48 hours
    const fleet = build({ ...fleetSpec(), maxJobTimeoutMinutes: 49 * 60 });

    // THEN synthesis carries a warning naming the field
    Annotations.fromStack(Stack.of(fleet)).hasWarning(
      '/S/Fleet',
      Match.stringLikeRegexp('fleet\\.maxJobTimeoutMinutes \\(2940\\) exceeds the 48 h a lifecycle action can wait'),
    );
  });

  it('does not warn when the longest job fits in the drain time', () => {
    const fleet = build({ ...fleetSpec(), maxJobTimeoutMinutes: 120 });

    Annotations.fromStack(Stack.of(fleet)).hasNoWarning('/S/Fleet', Match.stringLikeRegexp('maxJobTimeoutMinutes'));
  });
});

describe('RunnerLaunchTemplate used directly', () => {
  function template(volumeSizeGiB: number) {
    const { stack, vpc } = stackWithVpc();
    const role = new iam.Role(stack, 'Role', { assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com') });
    return () => new RunnerLaunchTemplate(stack, 'Lt', { vpc, architecture: 'arm64', volumeSizeGiB, role, userData: '#!/bin/bash\n' });
  }

  it.each([7, 16385, 20.5])('rejects volumeSizeGiB %s, naming the allowed range', (size) => {
    expect(template(size)).toThrow(`volumeSizeGiB (${size}) must be a whole number from 8 to 16384`);
  });

  it.each([8, 16384])('accepts volumeSizeGiB %s at the edge of the range', (size) => {
    expect(template(size)).not.toThrow();
  });
});
