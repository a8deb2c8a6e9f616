/**
 * The instance refresh a token rotation rolls a fleet with, as both the rotation Lambda and
 * `runner-fleet rotate-token` start and watch it: rolling, with the rotation's preferences, so
 * every old instance leaves through the terminate hook and its drain agent.
 */
import { DescribeInstanceRefreshesCommand, StartInstanceRefreshCommand, type AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { rotationRefreshPreferences } from '../../rotation/token-rotation';

/** Starts the roll of `groupName` and returns the refresh id. */
export async function startRotationRefresh(
  autoScaling: AutoScalingClient,
  groupName: string,
  minHealthyPercentage: number,
): Promise<string> {
  const out = await autoScaling.send(
    new StartInstanceRefreshCommand({
      AutoScalingGroupName: groupName,
      Strategy: 'Rolling',
      Preferences: rotationRefreshPreferences(minHealthyPercentage),
    }),
  );
  if (!out.InstanceRefreshId) throw new Error(`StartInstanceRefresh of ${groupName} returned no refresh id`);
  return out.InstanceRefreshId;
}

/** Status of an instance refresh: Pending, InProgress, Successful, Failed, Cancelled, ... ('Unknown' when AWS lists none). */
export async function instanceRefreshStatus(autoScaling: AutoScalingClient, groupName: string, refreshId: string): Promise<string> {
  const out = await autoScaling.send(
    new DescribeInstanceRefreshesCommand({ AutoScalingGroupName: groupName, InstanceRefreshIds: [refreshId] }),
  );
  return out.InstanceRefreshes?.[0]?.Status ?? 'Unknown';
}
