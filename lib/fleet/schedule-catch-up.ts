/**
 * "Apply the schedule now" at deploy time. A group whose schedule changes capacity is created
 * at the week's floor with no desired capacity in the template (scheduled actions own it, and a
 * deploy must not reset what they set), so without help a fleet created, or rescheduled, in the
 * middle of a window would wait at the floor for the next scheduled change. The templates must
 * stay deterministic, so "now" cannot be evaluated at synth: a custom resource per scheduled
 * fleet evaluates it at deploy time, with the same scheduled changes and sizes as the group's
 * scheduled actions (lib/scaling/scheduled-sizes.ts), so the group looks as if the change in
 * force had fired.
 *
 * One function per deployment, in the shared stack (constant size at any fleet count), reached
 * by its deterministic name rather than a CloudFormation export, so no fleet stack pins the
 * shared stack. A plain CustomResource with the Lambda as service token, like the managed
 * GitLab runners (managed-runner.ts): one function and one role to scope and review.
 */
import { ArnFormat, CustomResource, Duration, Stack } from 'aws-cdk-lib';
import type * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct, type IDependable } from 'constructs';
import type { FleetSpec, GitLabSettings } from '../config/fleet-config';
import { scheduleCatchUpFunctionName } from '../identity/deployment';
import { catchUpChangeProperties, SCHEDULE_CATCH_UP_RESOURCE_TYPE, type CatchUpProperties } from '../lambda/schedule-catch-up/core';
import { handlerConfig } from '../lambda/shared/handler-config';
import { needsScheduleCatchUp, scheduledGroupSizes } from '../scaling/scheduled-sizes';
import { deploymentOfFleets, FleetLambdaFunction } from './fleet-lambda';

export interface FleetScheduleCatchUpFunctionProps {
  /** The fleets of the deployment; the function may resize the groups of those with scheduled changes. */
  readonly fleets: readonly FleetSpec[];
  readonly gitlab: GitLabSettings;
  /**
   * Retention of the function's logs.
   * @default logs.RetentionDays.THREE_MONTHS
   */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * The deployment's catch-up function. Always created (a function nobody calls costs nothing), so
 * a fleet that gains a schedule later finds it, and one that loses it never strands a resource
 * whose function is gone.
 */
export class FleetScheduleCatchUpFunction extends Construct {
  public readonly handler: FleetLambdaFunction;
  public readonly functionName: string;

  constructor(scope: Construct, id: string, props: FleetScheduleCatchUpFunctionProps) {
    super(scope, id);
    const deployment = deploymentOfFleets(props.fleets);
    this.functionName = scheduleCatchUpFunctionName(deployment);
    this.handler = new FleetLambdaFunction(this, 'Handler', {
      handler: 'schedule-catch-up',
      functionName: this.functionName,
      description: 'GitLab runner fleets: at deploy time, sets a scheduled group to the capacity its schedule gives for now',
      // The handler reads nothing from it: every input comes with the request.
      config: handlerConfig([], props.gitlab),
      timeout: Duration.minutes(1),
      memorySize: 128,
      logRetention: props.logRetention ?? logs.RetentionDays.THREE_MONTHS,
    });
    const scheduled = props.fleets.filter(needsScheduleCatchUp).map((f) => f.name);
    // A named deployment is one prefix at any count; without a name, the scheduled fleets' groups are listed (none: no grant).
    if (deployment !== undefined || scheduled.length > 0) {
      this.handler.grantOnFleetGroups('ApplyScheduleNow', ['autoscaling:UpdateAutoScalingGroup'], scheduled, deployment);
    }
  }
}

/** The service token of the deployment's catch-up function, as an ARN built in `scope`'s stack. */
export function scheduleCatchUpServiceToken(scope: Construct, deployment?: string): string {
  return Stack.of(scope).formatArn({
    service: 'lambda',
    resource: 'function',
    resourceName: scheduleCatchUpFunctionName(deployment),
    arnFormat: ArnFormat.COLON_RESOURCE_NAME,
  });
}

export interface FleetScheduleCatchUpProps {
  readonly fleet: FleetSpec;
  readonly autoScalingGroup: autoscaling.IAutoScalingGroup;
  /** The catch-up function's ARN ({@link scheduleCatchUpServiceToken}). */
  readonly serviceToken: string;
  /** What must exist before the group is resized: the scheduled actions, so none fires on a group still being set up. */
  readonly after?: readonly IDependable[];
  /**
   * The launch template version the group runs. A new version rolls the group, and Auto Scaling
   * suspends scheduled actions during the roll, so a change that fell into it is skipped; with
   * the version among its properties the catch-up runs again after every roll and applies it.
   * @default - the catch-up runs only when the fleet is created or its schedule changes
   */
  readonly launchTemplateVersion?: string;
}

/**
 * The custom resource of one fleet. Its properties are the scheduled changes with their sizes,
 * the time zone, the group's max and whether demand scaling owns desired capacity: everything the
 * capacity at "now" depends on, and nothing that changes from one synth to the next, so
 * CloudFormation invokes it when the fleet is created and whenever its schedule changes, and not
 * on other deploys (where the scheduled actions already hold the group where it should be), except
 * after a roll of the group (see `launchTemplateVersion`).
 */
export class FleetScheduleCatchUp extends Construct {
  public readonly resource: CustomResource;
  public readonly properties: CatchUpProperties;

  constructor(scope: Construct, id: string, props: FleetScheduleCatchUpProps) {
    super(scope, id);
    const { fleet } = props;
    if (!fleet.schedule) throw new Error(`FleetScheduleCatchUp: fleet ${fleet.name} has no schedule`);
    this.properties = {
      AutoScalingGroupName: props.autoScalingGroup.autoScalingGroupName,
      TimeZone: fleet.schedule.timeZone,
      MaxSize: String(fleet.capacity.max),
      DemandScaled: String(fleet.demandScaling !== undefined),
      Changes: catchUpChangeProperties(scheduledGroupSizes(fleet)),
    };
    this.resource = new CustomResource(this, 'Resource', {
      serviceToken: props.serviceToken,
      resourceType: SCHEDULE_CATCH_UP_RESOURCE_TYPE,
      // The handler ignores the version; it is there so CloudFormation calls it after a roll.
      properties: {
        ...this.properties,
        ...(props.launchTemplateVersion === undefined ? {} : { LaunchTemplateVersion: props.launchTemplateVersion }),
      },
    });
    // The group name is a Ref, so the group comes first; the actions too, so the next change is in place.
    for (const dependency of props.after ?? []) this.resource.node.addDependency(dependency);
  }
}
