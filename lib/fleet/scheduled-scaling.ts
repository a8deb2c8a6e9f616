/**
 * Scheduled actions that make a fleet's group follow its weekly uptime schedule, computed by
 * the pure schedule model in lib/config (the same model the cost estimate uses).
 */
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import { Construct } from 'constructs';
import type { FleetSpec, ScheduledChange } from '../config';
import { scheduledGroupSizes } from '../scaling/scheduled-sizes';

export interface FleetScheduledScalingProps {
  readonly autoScalingGroup: autoscaling.IAutoScalingGroup;
  /** The fleet; without a schedule no actions are created. */
  readonly fleet: FleetSpec;
}

/**
 * One scheduled action per capacity change in the fleet's week, in the fleet's IANA time zone
 * (so daylight saving time does not move the team's day). Each sets desiredCapacity to the new
 * capacity and minCapacity to the floor of the period (the capacity itself, or for a demand-scaled
 * fleet the demand envelope's min; see {@link scheduledGroupSizes}), so nothing scales the group
 * below what the schedule asks for. Construct ids derive from the change ids, which derive from time, days and capacity:
 * stable across synths.
 */
export class FleetScheduledScaling extends Construct {
  /** The changes the actions implement, in week order. */
  public readonly changes: readonly ScheduledChange[];
  public readonly actions: readonly autoscaling.ScheduledAction[];

  constructor(scope: Construct, id: string, props: FleetScheduledScalingProps) {
    super(scope, id);
    const schedule = props.fleet.schedule;
    const sizes = scheduledGroupSizes(props.fleet);
    this.changes = sizes.map((s) => s.change);
    this.actions = sizes.map(
      ({ change, minSize, desiredCapacity }) =>
        new autoscaling.ScheduledAction(this, change.id, {
          autoScalingGroup: props.autoScalingGroup,
          schedule: autoscaling.Schedule.expression(change.cron),
          timeZone: schedule?.timeZone,
          minCapacity: minSize,
          desiredCapacity,
        }),
    );
  }
}
