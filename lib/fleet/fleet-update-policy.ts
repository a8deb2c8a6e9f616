/**
 * How CloudFormation replaces a fleet's instances when its launch template changes (a new AMI
 * behind the SSM parameter, a new runner version, any config change that reaches user data).
 */
import { Token, type CfnAutoScalingRollingUpdate } from 'aws-cdk-lib';
import type { FleetCapacity } from '../config';

/**
 * Processes suspended while CloudFormation rolls the group, as AWS recommends, so nothing else
 * changes the group under the update. A scheduled action that falls into a rolling update is
 * skipped; the next one applies as usual.
 */
export const ROLLING_UPDATE_SUSPENDED_PROCESSES = [
  'HealthCheck',
  'ReplaceUnhealthy',
  'AZRebalance',
  'AlarmNotification',
  'ScheduledActions',
] as const;

/**
 * A rolling update that keeps `minHealthyPercentage` of the group's desired capacity InService
 * (MinActiveInstancesPercent, a percentage, so it follows whatever capacity the schedule set at
 * the time), replacing at most the rest of `capacity.max` per batch. Old instances leave through
 * the terminate lifecycle hook like any scale-in, so their jobs drain first; new instances count
 * only once their launch hook completed, i.e. after their runner registered. With a deploy-time
 * `capacity.max` (a CloudFormation parameter), whose share cannot be computed at synth, one
 * instance is replaced at a time.
 */
export function fleetRollingUpdate(capacity: FleetCapacity, minHealthyPercentage: number): CfnAutoScalingRollingUpdate {
  return {
    maxBatchSize:
      Token.isUnresolved(capacity.max) || Token.isUnresolved(minHealthyPercentage)
        ? 1
        : Math.max(1, Math.floor((capacity.max * (100 - minHealthyPercentage)) / 100)),
    minActiveInstancesPercent: minHealthyPercentage,
    minInstancesInService: 0,
    suspendProcesses: [...ROLLING_UPDATE_SUSPENDED_PROCESSES],
    waitOnResourceSignals: false,
  };
}
