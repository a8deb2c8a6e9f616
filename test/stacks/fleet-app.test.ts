import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { addFleetStacks, createFleetApp, fleetStackName, SHARED_STACK_NAME } from '../../lib/stacks/fleet-app';
import { rawFleet, testConfig } from '../support/stack-helpers';

const NETWORK = { vpcId: 'vpc-0123456789abcdef0', subnetIds: ['subnet-0aaaaaaaaaaaaaaaa', 'subnet-0bbbbbbbbbbbbbbbb'] };

function stacksOf(fleets: Record<string, unknown>[], extra: Record<string, unknown> = {}) {
  const app = new App({ builtinCloudFormationValidation: false });
  return addFleetStacks(app, testConfig(fleets, extra));
}

describe('fleet app', () => {
  it('creates one stack per fleet plus the shared stack, named after the fleets', () => {
    const app = createFleetApp(testConfig([rawFleet({ name: 'alpha' }), rawFleet({ name: 'beta' }), rawFleet({ name: 'gamma' })]), {
      cloudFormationValidation: false,
    });
    const names = app
      .synth()
      .stacks.map((s) => s.stackName)
      .sort();
    expect(names).toEqual([SHARED_STACK_NAME, fleetStackName('alpha'), fleetStackName('beta'), fleetStackName('gamma')].sort());
  });

  it('puts exactly one Auto Scaling group in each fleet stack', () => {
    const { fleets } = stacksOf([rawFleet({ name: 'alpha' }), rawFleet({ name: 'beta' })]);
    for (const stack of fleets) Template.fromStack(stack).resourceCountIs('AWS::AutoScaling::AutoScalingGroup', 1);
  });

  it('keeps the fleet stack far below the 500 resource limit', () => {
    const { fleets } = stacksOf([
      rawFleet({ schedule: { timeZone: 'UTC', windows: [{ days: 'mon-fri', start: '08:00', end: '18:00' }] } }),
    ]);
    const count = Object.keys(Template.fromStack(fleets[0]).toJSON().Resources).length;
    expect(count).toBeLessThan(20);
  });

  it('creates the default VPC in the shared stack for fleets without network config', () => {
    const { shared, fleets } = stacksOf([rawFleet()]);
    Template.fromStack(shared).resourceCountIs('AWS::EC2::VPC', 1);
    Template.fromStack(fleets[0]).resourceCountIs('AWS::EC2::VPC', 0);
    Template.fromStack(fleets[0]).hasResourceProperties('AWS::AutoScaling::AutoScalingGroup', {
      VPCZoneIdentifier: Match.arrayWith([{ 'Fn::ImportValue': Match.stringLikeRegexp(SHARED_STACK_NAME) }]),
    });
  });

  it('creates no VPC when every fleet brings its own network', () => {
    const { shared } = stacksOf([rawFleet({ network: NETWORK })]);
    Template.fromStack(shared).resourceCountIs('AWS::EC2::VPC', 0);
  });

  it('places an existing-network fleet in its configured subnets and VPC', () => {
    const { fleets } = stacksOf([rawFleet({ network: NETWORK })]);
    const template = Template.fromStack(fleets[0]);
    template.hasResourceProperties('AWS::AutoScaling::AutoScalingGroup', { VPCZoneIdentifier: NETWORK.subnetIds });
    template.hasResourceProperties('AWS::EC2::SecurityGroup', { VpcId: NETWORK.vpcId });
  });

  it('mixes default-network and existing-network fleets', () => {
    const { shared, fleets } = stacksOf([rawFleet({ name: 'own', network: NETWORK }), rawFleet({ name: 'default' })]);
    Template.fromStack(shared).resourceCountIs('AWS::EC2::VPC', 1);
    Template.fromStack(fleets[0]).hasResourceProperties('AWS::AutoScaling::AutoScalingGroup', { VPCZoneIdentifier: NETWORK.subnetIds });
  });

  it('deploys the shared stack before the fleet stacks', () => {
    const { shared, fleets } = stacksOf([rawFleet({ network: NETWORK })]);
    expect(fleets[0].dependencies).toContain(shared);
  });

  it('applies awsTags to fleet resources', () => {
    const { fleets } = stacksOf([rawFleet()], { awsTags: { 'cost-center': 'ci' } });
    Template.fromStack(fleets[0]).hasResourceProperties('AWS::AutoScaling::AutoScalingGroup', {
      Tags: Match.arrayWith([{ Key: 'cost-center', Value: 'ci', PropagateAtLaunch: true }]),
    });
  });

  it('applies awsTags to shared resources', () => {
    const { shared } = stacksOf([rawFleet()], { awsTags: { 'cost-center': 'ci' } });
    Template.fromStack(shared).hasResourceProperties('AWS::EC2::VPC', { Tags: Match.arrayWith([{ Key: 'cost-center', Value: 'ci' }]) });
  });

  it('leaves stacks environment-agnostic', () => {
    const { shared, fleets } = stacksOf([rawFleet()]);
    for (const stack of [shared, ...fleets]) {
      expect(stack.environment).toBe('aws://unknown-account/unknown-region');
    }
  });
});

describe('shared stack', () => {
  it('holds the safety net: a queue for fleet lifecycle events with a dead-letter queue', () => {
    const { shared } = stacksOf([rawFleet()]);
    const template = Template.fromStack(shared);
    expect(Object.keys(template.findResources('AWS::SQS::Queue')).length).toBeGreaterThanOrEqual(2);
    expect(Object.keys(template.findResources('AWS::Lambda::Function')).length).toBeGreaterThanOrEqual(1);
  });

  it('holds the orphan reaper when the config enables it', () => {
    const withReaper = stacksOf([rawFleet()], { orphanReaper: { enabled: true } });
    const without = stacksOf([rawFleet()]);
    const functions = (stack: typeof without.shared) =>
      Object.keys(Template.fromStack(stack).findResources('AWS::Lambda::Function')).length;
    expect(withReaper.shared.orphanReaper).toBeDefined();
    expect(without.shared.orphanReaper).toBeUndefined();
    expect(functions(withReaper.shared)).toBe(functions(without.shared) + 1);
  });
});
