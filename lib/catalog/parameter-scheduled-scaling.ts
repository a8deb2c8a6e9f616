/**
 * Scheduled actions for a working-hours window whose days, hours and capacities are
 * CloudFormation parameters (a Service Catalog product's form). A separate, small counterpart to
 * FleetScheduledScaling, which computes its actions at synth from a literal schedule.
 *
 * Cron fields cannot be computed by CloudFormation, so they come from mappings filled at synth:
 * the hour a window starts at maps to the jittered start time (minutes early, possibly in the
 * hour before) and the hour it ends at to the jittered end time, and the working-days choice to
 * its cron day field. The actions run in the chosen IANA time zone, so they stay correct across
 * daylight saving time, as the literal path's do.
 */
import { CfnMapping, Fn } from 'aws-cdk-lib';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import { Construct } from 'constructs';
import { WORKING_DAYS_CHOICES } from '../config';

export interface ParameterScheduledScalingProps {
  readonly autoScalingGroup: autoscaling.IAutoScalingGroup;
  /** IANA time zone (a parameter's value). */
  readonly timeZone: string;
  /** A key of WORKING_DAYS_CHOICES (a parameter's value). */
  readonly workingDays: string;
  /** Hour the window starts, two digits `01`-`22` (a parameter's value). */
  readonly workStartHour: string;
  /** Hour the window ends, two digits `02`-`23`, after the start (a parameter's value; a template rule checks it). */
  readonly workEndHour: string;
  /** Instances during the window. */
  readonly workingHoursCapacity: number;
  /** Instances outside the window. */
  readonly offHoursCapacity: number;
  /** Minutes the window starts early and ends late (0-59), fixed at synth. */
  readonly jitterMinutes: number;
}

/** Two-digit hour keys. */
export function hourKey(hour: number): string {
  return String(hour).padStart(2, '0');
}

/** `minute hour` of a window starting at `hour`, `jitter` minutes early. */
export function jitteredStart(hour: number, jitter: number): string {
  const minute = (hour * 60 - jitter + 24 * 60) % (24 * 60);
  return `${minute % 60} ${Math.floor(minute / 60)}`;
}

/** `minute hour` of a window ending at `hour`, `jitter` minutes late. */
export function jitteredEnd(hour: number, jitter: number): string {
  const minute = (hour * 60 + jitter) % (24 * 60);
  return `${minute % 60} ${Math.floor(minute / 60)}`;
}

export class ParameterScheduledScaling extends Construct {
  public readonly scaleUp: autoscaling.ScheduledAction;
  public readonly scaleDown: autoscaling.ScheduledAction;

  constructor(scope: Construct, id: string, props: ParameterScheduledScalingProps) {
    super(scope, id);
    if (!Number.isInteger(props.jitterMinutes) || props.jitterMinutes < 0 || props.jitterMinutes > 59) {
      throw new Error(`jitterMinutes (${props.jitterMinutes}) must be a whole number from 0 to 59`);
    }
    const hours: Record<string, Record<string, string>> = {};
    for (let hour = 1; hour <= 23; hour++) {
      hours[hourKey(hour)] = { Start: jitteredStart(hour, props.jitterMinutes), End: jitteredEnd(hour, props.jitterMinutes) };
    }
    const times = new CfnMapping(this, 'Hours', { mapping: hours });
    const days = new CfnMapping(this, 'Days', {
      mapping: Object.fromEntries(Object.entries(WORKING_DAYS_CHOICES).map(([key, choice]) => [key, { Cron: choice.cron }])),
    });
    const recurrence = (time: string) => Fn.join(' ', [time, '*', '*', days.findInMap(props.workingDays, 'Cron')]);
    this.scaleUp = new autoscaling.ScheduledAction(this, 'ScaleUp', {
      autoScalingGroup: props.autoScalingGroup,
      schedule: autoscaling.Schedule.expression(recurrence(times.findInMap(props.workStartHour, 'Start'))),
      timeZone: props.timeZone,
      minCapacity: props.workingHoursCapacity,
      desiredCapacity: props.workingHoursCapacity,
    });
    this.scaleDown = new autoscaling.ScheduledAction(this, 'ScaleDown', {
      autoScalingGroup: props.autoScalingGroup,
      schedule: autoscaling.Schedule.expression(recurrence(times.findInMap(props.workEndHour, 'End'))),
      timeZone: props.timeZone,
      minCapacity: props.offHoursCapacity,
      desiredCapacity: props.offHoursCapacity,
    });
  }
}
