import { AutoScalingClient, DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
import { DescribeInstancesCommand, EC2Client, type DescribeInstancesCommandInput } from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { autoScalingGroupName } from '../../lib/identity/runner-identity';
import { EXISTING_STATES, listExistingInstanceIds } from '../../lib/lambda/orphan-reaper/inventory';
import { FleetNotDeployedError } from '../../lib/lambda/orphan-reaper/survey';

const FLEET = { name: 'alpha', autoScalingGroupName: autoScalingGroupName('alpha'), tokenSecretName: 'fleet/alpha/runner-token' };

describe('fleet instance inventory', () => {
  const ec2 = new EC2Client({ region: 'eu-central-1' });
  const autoScaling = new AutoScalingClient({ region: 'eu-central-1' });
  const ec2Mock = mockClient(ec2);
  const asgMock = mockClient(autoScaling);

  const groupTag = (input: DescribeInstancesCommandInput) => input.Filters?.some((f) => f.Name === 'tag:aws:autoscaling:groupName');

  beforeEach(() => {
    ec2Mock.reset();
    asgMock.reset();
    asgMock
      .on(DescribeAutoScalingGroupsCommand)
      .resolves({ AutoScalingGroups: [{ AutoScalingGroupName: FLEET.autoScalingGroupName, Instances: [] }] } as never);
    ec2Mock.on(DescribeInstancesCommand).resolves({ Reservations: [] });
  });

  it('follows NextToken through every page of DescribeInstances', async () => {
    // GIVEN the group tag query answers in two pages
    ec2Mock.on(DescribeInstancesCommand).callsFake((input: DescribeInstancesCommandInput) => {
      if (!groupTag(input)) return { Reservations: [] };
      if (input.NextToken === undefined) return { Reservations: [{ Instances: [{ InstanceId: 'i-page1' }] }], NextToken: 'p2' };
      if (input.NextToken === 'p2') return { Reservations: [{ Instances: [{ InstanceId: 'i-page2' }] }] };
      throw new Error(`unexpected token ${input.NextToken}`);
    });
    // WHEN the inventory is listed
    const ids = await listExistingInstanceIds(autoScaling, ec2, FLEET);
    // THEN both pages count
    expect(ids).toEqual(['i-page1', 'i-page2']);
    expect(ec2Mock.commandCalls(DescribeInstancesCommand).map((c) => c.args[0].input.NextToken)).toEqual([undefined, 'p2', undefined]);
  });

  it('asks EC2 for every state but terminated, so stopped and shutting-down instances count as existing', async () => {
    await listExistingInstanceIds(autoScaling, ec2, FLEET);
    const stateFilters = ec2Mock
      .commandCalls(DescribeInstancesCommand)
      .map((c) => c.args[0].input.Filters?.find((f) => f.Name === 'instance-state-name'));
    expect(stateFilters).toHaveLength(2);
    for (const filter of stateFilters) expect(filter?.Values).toEqual(['pending', 'running', 'shutting-down', 'stopping', 'stopped']);
    expect(EXISTING_STATES).not.toContain('terminated');
  });

  it('merges group members, group-tagged and fleet-tagged instances without duplicates, sorted', async () => {
    // GIVEN an instance known to all three sources, and one known only to each
    asgMock.on(DescribeAutoScalingGroupsCommand).resolves({
      AutoScalingGroups: [
        { AutoScalingGroupName: FLEET.autoScalingGroupName, Instances: [{ InstanceId: 'i-c' }, { InstanceId: 'i-member' }] },
      ],
    } as never);
    ec2Mock.on(DescribeInstancesCommand).callsFake((input: DescribeInstancesCommandInput) => ({
      Reservations: [
        {
          Instances: groupTag(input)
            ? [{ InstanceId: 'i-c' }, { InstanceId: 'i-b-tagged' }]
            : [{ InstanceId: 'i-c' }, { InstanceId: 'i-a-detached' }],
        },
      ],
    }));
    // WHEN / THEN
    expect(await listExistingInstanceIds(autoScaling, ec2, FLEET)).toEqual(['i-a-detached', 'i-b-tagged', 'i-c', 'i-member']);
  });

  it('skips entries without an instance id and reservations without instances', async () => {
    asgMock.on(DescribeAutoScalingGroupsCommand).resolves({
      AutoScalingGroups: [{ AutoScalingGroupName: FLEET.autoScalingGroupName, Instances: [{}, { InstanceId: 'i-1' }] }],
    } as never);
    ec2Mock.on(DescribeInstancesCommand).resolves({ Reservations: [{}, { Instances: [{}, { InstanceId: 'i-2' }] }] });
    expect(await listExistingInstanceIds(autoScaling, ec2, FLEET)).toEqual(['i-1', 'i-2']);
  });

  it('treats a page without reservations as empty', async () => {
    ec2Mock.on(DescribeInstancesCommand).resolves({});
    expect(await listExistingInstanceIds(autoScaling, ec2, FLEET)).toEqual([]);
  });

  it('treats a group without an instance list as empty', async () => {
    asgMock
      .on(DescribeAutoScalingGroupsCommand)
      .resolves({ AutoScalingGroups: [{ AutoScalingGroupName: FLEET.autoScalingGroupName }] } as never);
    expect(await listExistingInstanceIds(autoScaling, ec2, FLEET)).toEqual([]);
  });

  it('reports a group that does not exist as not deployed', async () => {
    asgMock.on(DescribeAutoScalingGroupsCommand).resolves({});
    await expect(listExistingInstanceIds(autoScaling, ec2, FLEET)).rejects.toBeInstanceOf(FleetNotDeployedError);
    expect(ec2Mock.commandCalls(DescribeInstancesCommand)).toHaveLength(0);
  });

  it('does not take a group with a merely similar name for the fleet group', async () => {
    asgMock
      .on(DescribeAutoScalingGroupsCommand)
      .resolves({ AutoScalingGroups: [{ AutoScalingGroupName: `${FLEET.autoScalingGroupName}-old`, Instances: [] }] } as never);
    await expect(listExistingInstanceIds(autoScaling, ec2, FLEET)).rejects.toBeInstanceOf(FleetNotDeployedError);
  });

  it('fails as a whole when a later page fails, so no decision is made on a partial list', async () => {
    ec2Mock.on(DescribeInstancesCommand).callsFake((input: DescribeInstancesCommandInput) => {
      if (input.NextToken) throw Object.assign(new Error('Rate exceeded'), { name: 'RequestLimitExceeded' });
      return { Reservations: [{ Instances: [{ InstanceId: 'i-1' }] }], NextToken: 'p2' };
    });
    await expect(listExistingInstanceIds(autoScaling, ec2, FLEET)).rejects.toThrow('Rate exceeded');
  });
});
