import { App, Lazy, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { describe, expect, it } from 'vitest';
import type { FleetSpec } from '../../lib/config';
import { RunnerFleet } from '../../lib/fleet/runner-fleet';
import { fleetSpec, TEST_GITLAB } from '../support/stack-helpers';

function build(fleet: FleetSpec, gitlabUrl = TEST_GITLAB.url): RunnerFleet {
  const stack = new Stack(new App(), 'S');
  const vpc = new ec2.Vpc(stack, 'Vpc', { natGateways: 0, subnetConfiguration: [{ name: 'p', subnetType: ec2.SubnetType.PUBLIC }] });
  return new RunnerFleet(stack, 'Fleet', { fleet, gitlab: { url: gitlabUrl }, vpc });
}

describe('RunnerFleet props validation', () => {
  it('names capacity.min and capacity.max when min exceeds max', () => {
    const fleet = { ...fleetSpec(), capacity: { min: 5, max: 2, desired: 2 } };
    expect(() => build(fleet)).toThrow(/fleet\.capacity\.min \(5\) must be <= fleet\.capacity\.max \(2\)/);
  });

  it('names capacity.desired when it is outside min..max', () => {
    const fleet = { ...fleetSpec(), capacity: { min: 0, max: 2, desired: 3 } };
    expect(() => build(fleet)).toThrow(/fleet\.capacity\.desired \(3\)/);
  });

  it('rejects onDemandBase on an on-demand fleet, naming the prop and the allowed value', () => {
    const fleet = { ...fleetSpec({ computeType: 'on-demand' }), onDemandBase: 1 };
    expect(() => build(fleet)).toThrow(/fleet\.onDemandBase \(1\) only applies to spot fleets; use 0/);
  });

  it('rejects an empty instanceTypes list', () => {
    expect(() => build({ ...fleetSpec(), instanceTypes: [] })).toThrow(/fleet\.instanceTypes must list at least one/);
  });

  it('rejects a minHealthyPercentage outside 0..100', () => {
    expect(() => build({ ...fleetSpec(), minHealthyPercentage: 120 })).toThrow(/fleet\.minHealthyPercentage \(120\) must be from 0 to 100/);
  });

  it('rejects a non-https GitLab URL', () => {
    expect(() => build(fleetSpec(), 'http://gitlab.example.com')).toThrow(
      /gitlab\.url \(http:\/\/gitlab\.example\.com\) must be an https:\/\/ URL/,
    );
  });

  it('reports every problem at once', () => {
    const fleet = { ...fleetSpec(), instanceTypes: [], minHealthyPercentage: -1 };
    expect(() => build(fleet)).toThrow(/instanceTypes[\s\S]*minHealthyPercentage/);
  });

  it('skips values that are deploy-time tokens', () => {
    const max = Lazy.number({ produce: () => 1 });
    const fleet = { ...fleetSpec(), capacity: { min: 0, max, desired: 3 } };
    expect(() => build(fleet)).not.toThrow();
  });
});
