import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { buildFleet, resourcesOfType } from '../support/stack-helpers';

const ASG = 'AWS::AutoScaling::AutoScalingGroup';

function groupProperties(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const groups = resourcesOfType(buildFleet(overrides).template, ASG);
  const [group] = Object.values(groups);
  return group.Properties;
}

describe('RunnerFleet Auto Scaling group', () => {
  it('is named deterministically from the fleet name', () => {
    const { template } = buildFleet({ name: 'my-fleet' });
    template.hasResourceProperties(ASG, { AutoScalingGroupName: 'gitlab-runner-fleet-my-fleet' });
  });

  it('lists every configured instance type as an override, in config order', () => {
    const { template } = buildFleet({ instanceTypes: ['c7g.large', 'm7g.large', 'm6g.large'] });
    template.hasResourceProperties(ASG, {
      MixedInstancesPolicy: {
        LaunchTemplate: { Overrides: [{ InstanceType: 'c7g.large' }, { InstanceType: 'm7g.large' }, { InstanceType: 'm6g.large' }] },
      },
    });
  });

  it('uses price-capacity-optimized spot allocation for spot fleets', () => {
    const { template } = buildFleet({ computeType: 'spot' });
    template.hasResourceProperties(ASG, {
      MixedInstancesPolicy: { InstancesDistribution: Match.objectLike({ SpotAllocationStrategy: 'price-capacity-optimized' }) },
    });
  });

  it('keeps spot fleets on spot above the on-demand base (0% on-demand above base)', () => {
    const { template } = buildFleet({ computeType: 'spot' });
    template.hasResourceProperties(ASG, {
      MixedInstancesPolicy: {
        InstancesDistribution: Match.objectLike({ OnDemandBaseCapacity: 0, OnDemandPercentageAboveBaseCapacity: 0 }),
      },
    });
  });

  it('honours onDemandBase as the on-demand floor of a spot fleet', () => {
    const { template } = buildFleet({ computeType: 'spot', onDemandBase: 2 });
    template.hasResourceProperties(ASG, {
      MixedInstancesPolicy: {
        InstancesDistribution: Match.objectLike({ OnDemandBaseCapacity: 2, OnDemandPercentageAboveBaseCapacity: 0 }),
      },
    });
  });

  it('runs on-demand fleets 100% on-demand', () => {
    const { template } = buildFleet({ computeType: 'on-demand' });
    template.hasResourceProperties(ASG, {
      MixedInstancesPolicy: {
        InstancesDistribution: Match.objectLike({
          OnDemandBaseCapacity: 0,
          OnDemandPercentageAboveBaseCapacity: 100,
          SpotAllocationStrategy: Match.absent(),
        }),
      },
    });
  });

  it('turns capacity rebalance on for spot fleets', () => {
    expect(groupProperties({ computeType: 'spot' }).CapacityRebalance).toBe(true);
  });

  it('turns capacity rebalance off for on-demand fleets', () => {
    expect(groupProperties({ computeType: 'on-demand' }).CapacityRebalance).toBe(false);
  });

  it('takes min and max from capacity', () => {
    const { template } = buildFleet({ capacity: { min: 1, max: 7, desired: 3 } });
    template.hasResourceProperties(ASG, { MinSize: '1', MaxSize: '7' });
  });

  it('sets desired capacity from capacity.desired when the fleet has no schedule', () => {
    const { template } = buildFleet({ capacity: { min: 0, max: 7, desired: 3 } });
    template.hasResourceProperties(ASG, { DesiredCapacity: '3' });
  });

  it('leaves desired capacity to the scheduled actions when the fleet has a schedule', () => {
    const properties = groupProperties({
      schedule: { timeZone: 'Europe/Berlin', windows: [{ days: 'mon-fri', start: '08:00', end: '18:00' }] },
    });
    expect(properties).not.toHaveProperty('DesiredCapacity');
  });

  it('spreads the group over the subnets of every availability zone it was given', () => {
    const subnets = groupProperties().VPCZoneIdentifier as unknown[];
    expect(subnets).toHaveLength(2);
  });

  it('uses the latest launch template version', () => {
    const { template } = buildFleet();
    template.hasResourceProperties(ASG, {
      MixedInstancesPolicy: {
        LaunchTemplate: {
          LaunchTemplateSpecification: { Version: { 'Fn::GetAtt': [Match.stringLikeRegexp('LaunchTemplate'), 'LatestVersionNumber'] } },
        },
      },
    });
  });
});

describe('RunnerFleet updates', () => {
  it('rolls the fleet keeping minHealthyPercentage of desired capacity in service', () => {
    const { template } = buildFleet({ minHealthyPercentage: 75, capacity: { min: 0, max: 8, desired: 4 } });
    template.hasResource(ASG, {
      UpdatePolicy: {
        AutoScalingRollingUpdate: Match.objectLike({ MinActiveInstancesPercent: 75, MaxBatchSize: 2, WaitOnResourceSignals: false }),
      },
    });
  });

  it('defaults to keeping half the fleet in service while rolling', () => {
    const { template } = buildFleet();
    template.hasResource(ASG, { UpdatePolicy: { AutoScalingRollingUpdate: Match.objectLike({ MinActiveInstancesPercent: 50 }) } });
  });

  it('replaces at least one instance per batch even at 100% min healthy', () => {
    const { template } = buildFleet({ minHealthyPercentage: 100 });
    template.hasResource(ASG, { UpdatePolicy: { AutoScalingRollingUpdate: Match.objectLike({ MaxBatchSize: 1 }) } });
  });

  it('suspends the processes AWS recommends suspending during a rolling update', () => {
    const { template } = buildFleet();
    template.hasResource(ASG, {
      UpdatePolicy: {
        AutoScalingRollingUpdate: Match.objectLike({
          SuspendProcesses: ['HealthCheck', 'ReplaceUnhealthy', 'AZRebalance', 'AlarmNotification', 'ScheduledActions'],
        }),
      },
    });
  });

  it('does not let a deploy reset the sizes the schedule set', () => {
    const { template } = buildFleet({ schedule: { timeZone: 'UTC', windows: [{ days: 'daily', start: '06:00', end: '20:00' }] } });
    template.hasResource(ASG, { UpdatePolicy: { AutoScalingScheduledAction: { IgnoreUnmodifiedGroupSizeProperties: true } } });
  });
});
