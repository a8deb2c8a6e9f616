import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { FleetStack } from '../../lib/stacks/fleet-stack';
import { SharedStack } from '../../lib/stacks/shared-stack';
import { fleetSpec, rawFleet, TEST_GITLAB, testConfig } from '../support/stack-helpers';

const NETWORK = { vpcId: 'vpc-0123456789abcdef0', subnetIds: ['subnet-0aaaaaaaaaaaaaaaa', 'subnet-0bbbbbbbbbbbbbbbb'] };

describe('FleetStack', () => {
  it('refuses a fleet without network config when no defaultVpc is given, naming the fleet and the prop', () => {
    // GIVEN a fleet that relies on the default VPC
    const fleet = fleetSpec({ name: 'no-network' });

    // WHEN the stack is built without defaultVpc THEN it names both
    expect(() => new FleetStack(new App(), 'S', { fleet, gitlab: TEST_GITLAB })).toThrow(
      'fleet no-network has no network config, so defaultVpc is required',
    );
  });

  it('builds a fleet with its own network without defaultVpc or awsTags', () => {
    // GIVEN a fleet with an existing VPC and subnets
    const fleet = fleetSpec({ network: NETWORK });

    // WHEN the stack is built with neither defaultVpc nor awsTags
    const stack = new FleetStack(new App(), 'S', { fleet, gitlab: TEST_GITLAB });

    // THEN the group runs in the configured subnets and carries only the fleet's own tags
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::AutoScaling::AutoScalingGroup', { VPCZoneIdentifier: NETWORK.subnetIds });
    template.hasResourceProperties('AWS::AutoScaling::AutoScalingGroup', {
      Tags: Match.not(Match.arrayWith([Match.objectLike({ Key: 'cost-center' })])),
    });
  });

  it('describes itself with the fleet name, compute type and architecture', () => {
    const stack = new FleetStack(new App(), 'S', { fleet: fleetSpec({ name: 'alpha', network: NETWORK }), gitlab: TEST_GITLAB });

    expect(stack.templateOptions.description).toBe('GitLab runner fleet alpha (spot, arm64)');
  });
});

describe('SharedStack', () => {
  it('has no VPC when every fleet brings its own network, and says so when one is asked for', () => {
    // GIVEN a config whose only fleet has a network
    const shared = new SharedStack(new App(), 'Shared', { config: testConfig([rawFleet({ network: NETWORK })]) });

    // THEN no VPC exists and the vpc getter explains why
    expect(shared.runnerVpc).toBeUndefined();
    expect(() => shared.vpc).toThrow('the shared stack has no VPC: every fleet has a network config');
  });

  it('exposes the default VPC when some fleet has no network', () => {
    const shared = new SharedStack(new App(), 'Shared', { config: testConfig([rawFleet({ name: 'own', network: NETWORK }), rawFleet()]) });

    expect(shared.vpc).toBe(shared.runnerVpc?.vpc);
    Template.fromStack(shared).resourceCountIs('AWS::EC2::VPC', 1);
  });

  it('creates no orphan reaper when the config disables it', () => {
    const shared = new SharedStack(new App(), 'Shared', { config: testConfig([rawFleet()], { orphanReaper: { enabled: false } }) });

    expect(shared.orphanReaper).toBeUndefined();
    const schedules = Template.fromStack(shared).findResources('AWS::Events::Rule', {
      Properties: { ScheduleExpression: Match.anyValue() },
    });
    // The only timer left is the spot fallback's.
    expect(Object.keys(schedules).map((id) => id.replace(/[0-9A-F]{8}$/, ''))).toEqual(['SpotFallbackTimer']);
  });

  it('creates the spot fallback when the config has a spot fleet', () => {
    const shared = new SharedStack(new App(), 'Shared', { config: testConfig([rawFleet({ computeType: 'spot' })]) });

    expect(shared.spotFallback).toBeDefined();
  });

  it('creates no spot fallback for on-demand fleets only', () => {
    const shared = new SharedStack(new App(), 'Shared', { config: testConfig([rawFleet({ computeType: 'on-demand' })]) });

    expect(shared.spotFallback).toBeUndefined();
    expect(Template.fromStack(shared).findResources('AWS::SQS::Queue', { Properties: { FifoQueue: true } })).toEqual({});
  });
});
