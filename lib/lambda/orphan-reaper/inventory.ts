/**
 * The instances of a fleet that still exist, from EC2 Auto Scaling and EC2. Used by the orphan
 * reaper Lambda and the `runner-fleet orphans` command.
 *
 * Three sources are merged, because each misses some instance the others see: the group's
 * member list (not yet tagged instances), instances tagged with the group (including ones in
 * Terminating:Wait), and instances tagged with the fleet (detached or standby ones). Any
 * failed or incomplete call throws, so no decision is made on a partial list.
 */
import { AutoScalingClient, DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
import { DescribeInstancesCommand, EC2Client, type Filter } from '@aws-sdk/client-ec2';
import { FLEET_TAGS } from '../../identity/runner-identity';
import type { FleetTarget } from '../shared/handler-config';
import { FleetNotDeployedError } from './survey';

/** Every state but terminated: the instance may still come back or still run jobs. */
export const EXISTING_STATES = ['pending', 'running', 'shutting-down', 'stopping', 'stopped'];

export async function listExistingInstanceIds(autoScaling: AutoScalingClient, ec2: EC2Client, fleet: FleetTarget): Promise<string[]> {
  const groups = await autoScaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [fleet.autoScalingGroupName] }));
  const group = groups.AutoScalingGroups?.find((g) => g.AutoScalingGroupName === fleet.autoScalingGroupName);
  if (!group) throw new FleetNotDeployedError(fleet.autoScalingGroupName);
  const ids = new Set<string>();
  for (const instance of group.Instances ?? []) if (instance.InstanceId) ids.add(instance.InstanceId);
  const byGroupTag = await describeInstanceIds(ec2, [{ Name: 'tag:aws:autoscaling:groupName', Values: [fleet.autoScalingGroupName] }]);
  const byFleetTag = await describeInstanceIds(ec2, [{ Name: `tag:${FLEET_TAGS.fleet}`, Values: [fleet.name] }]);
  for (const id of [...byGroupTag, ...byFleetTag]) ids.add(id);
  return [...ids].sort();
}

async function describeInstanceIds(ec2: EC2Client, filters: Filter[]): Promise<string[]> {
  const ids: string[] = [];
  let nextToken: string | undefined;
  do {
    const page = await ec2.send(
      new DescribeInstancesCommand({
        Filters: [...filters, { Name: 'instance-state-name', Values: EXISTING_STATES }],
        MaxResults: 1000,
        NextToken: nextToken,
      }),
    );
    for (const reservation of page.Reservations ?? []) {
      for (const instance of reservation.Instances ?? []) if (instance.InstanceId) ids.push(instance.InstanceId);
    }
    nextToken = page.NextToken;
  } while (nextToken);
  return ids;
}
