/**
 * The spot fallback: one Lambda for all spot fleets that lets on-demand take over while spot
 * capacity is gone, and hands back to spot once launches stop failing.
 *
 * EventBridge sends the fleet groups' "EC2 Instance Launch Unsuccessful" events, and a timer
 * (every 5 minutes, at minutes derived from the fleet names so it never fires on :00 or :05)
 * sends ticks, into one FIFO queue: the Lambda handles them one at a time, so two events for one
 * group never race on its state tag. Failed records are retried by SQS and end in a dead-letter
 * queue, which raises an alarm. The Lambda may change the on-demand base and the fallback tag of
 * the fleet groups only.
 */
import { Duration } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { spotFallbackOf, type FleetSpec, type GitLabSettings } from '../config/fleet-config';
import { jitterMinutes } from '../config/schedule';
import { FALLBACK_DETAIL_TYPES } from '../lambda/spot-fallback/core';
import { handlerConfig, type HandlerConfig } from '../lambda/shared/handler-config';
import { autoScalingGroupNamePrefix } from '../identity/deployment';
import { autoScalingGroupName } from '../identity/runner-identity';
import { deploymentOfFleets, FleetLambdaFunction } from './fleet-lambda';
import { chunkGroupNames } from './safety-net';
import { addWorkQueue, maxReceiveCountProblem } from './work-queue';

export interface SpotFallbackProps {
  /** The fleets; on-demand fleets are left out, spot fleets with the fallback off are only returned to spot. */
  readonly fleets: readonly FleetSpec[];
  /** The GitLab of the fleets (part of the shared handler configuration; the fallback never calls it). */
  readonly gitlab: GitLabSettings;
  /**
   * Deliveries of one event before it moves to the dead-letter queue.
   * @default 5
   */
  readonly maxReceiveCount?: number;
  /**
   * Retention of the function's logs (they hold every switch to on-demand and back).
   * @default logs.RetentionDays.THREE_MONTHS
   */
  readonly logRetention?: logs.RetentionDays;
}

/** How often the timer ticks, in minutes. */
export const SPOT_FALLBACK_TICK_MINUTES = 5;

/** The timer's schedule: every 5 minutes at an offset of 1-4 minutes derived from `seed`. */
export function spotFallbackSchedule(seed: string): string {
  return `cron(${jitterMinutes(seed, SPOT_FALLBACK_TICK_MINUTES - 1)}/${SPOT_FALLBACK_TICK_MINUTES} * * * ? *)`;
}

const FUNCTION_TIMEOUT = Duration.seconds(60);

/** The handler configuration: spot fleets with their fallback settings. */
export function spotFallbackConfig(fleets: readonly FleetSpec[], gitlab: GitLabSettings): HandlerConfig {
  const spot = fleets.filter((f) => f.computeType === 'spot');
  const config = handlerConfig(spot, gitlab);
  return {
    ...config,
    fleets: config.fleets.map((target, i) => {
      const settings = spotFallbackOf(spot[i]);
      return { ...target, spotFallback: { ...settings, onDemandBase: spot[i].onDemandBase } };
    }),
  };
}

export class SpotFallback extends Construct {
  public readonly function: lambda.Function;
  /** FIFO: events and ticks are handled one at a time. */
  public readonly queue: sqs.Queue;
  public readonly deadLetterQueue: sqs.Queue;
  /** In alarm while the dead-letter queue holds a message: a fallback or a return may not have happened. */
  public readonly deadLetterAlarm: cloudwatch.Alarm;
  public readonly rules: readonly events.Rule[];
  public readonly scheduleExpression: string;

  constructor(scope: Construct, id: string, props: SpotFallbackProps) {
    super(scope, id);
    const spotFleets = props.fleets.filter((f) => f.computeType === 'spot');
    const maxReceiveCount = props.maxReceiveCount ?? 5;
    const problems: string[] = [];
    if (spotFleets.length === 0) problems.push('fleets must hold at least one spot fleet');
    const receiveProblem = maxReceiveCountProblem(maxReceiveCount);
    if (receiveProblem) problems.push(receiveProblem);
    if (problems.length > 0) throw new Error(`SpotFallback: ${problems.join('; ')}`);
    const deployment = deploymentOfFleets(spotFleets);

    ({
      queue: this.queue,
      deadLetterQueue: this.deadLetterQueue,
      deadLetterAlarm: this.deadLetterAlarm,
    } = addWorkQueue(this, {
      fifo: true,
      consumerTimeout: FUNCTION_TIMEOUT,
      retentionPeriod: Duration.days(1),
      deadLetterRetentionPeriod: Duration.days(14),
      maxReceiveCount,
      alarmDescription:
        'GitLab runner fleet spot fallback: events it could not handle. A fleet may stay short of capacity or on on-demand; see the spot-fallback logs.',
      deadLetterReason: 'This is the dead-letter queue of the spot-fallback queue; it has no dead-letter queue of its own.',
    }));

    const lambdaFunction = new FleetLambdaFunction(this, 'Handler', {
      handler: 'spot-fallback',
      description: 'GitLab runner fleets: on-demand covers for spot while spot capacity is gone, then back to spot',
      config: spotFallbackConfig(spotFleets, props.gitlab),
      timeout: FUNCTION_TIMEOUT,
      logRetention: props.logRetention ?? logs.RetentionDays.THREE_MONTHS,
    });
    this.function = lambdaFunction.function;
    const fleetNames = spotFleets.map((f) => f.name);
    lambdaFunction.grantOnFleetGroups(
      'SetFleetOnDemandBase',
      ['autoscaling:UpdateAutoScalingGroup', 'autoscaling:CreateOrUpdateTags'],
      fleetNames,
      deployment,
    );
    lambdaFunction.grantDescribe(
      'DescribeFleetGroups',
      ['autoscaling:DescribeAutoScalingGroups', 'ec2:DescribeInstances'],
      'DescribeAutoScalingGroups and DescribeInstances support no resource-level permissions; AWS requires "*". Both are read-only.',
    );
    this.function.addEventSource(new SqsEventSource(this.queue, { batchSize: 10, reportBatchItemFailures: true }));

    // One message group: the whole queue is handled in order, one batch at a time.
    const target = new targets.SqsQueue(this.queue, {
      messageGroupId: 'spot-fallback',
      retryAttempts: 185,
      maxEventAge: Duration.hours(24),
    });
    const rules: events.Rule[] = [];
    // A named deployment's groups share a prefix: one rule of constant size at any fleet count (the
    // Lambda ignores launch failures of the deployment's on-demand groups).
    const groupNameMatches: string[][] =
      deployment !== undefined
        ? [events.Match.prefix(autoScalingGroupNamePrefix(deployment))]
        : chunkGroupNames(spotFleets.map((f) => autoScalingGroupName(f.name)));
    groupNameMatches.forEach((groupNames, i) => {
      rules.push(
        new events.Rule(this, i === 0 ? 'LaunchFailures' : `LaunchFailures${i + 1}`, {
          description: 'Failed launches in the GitLab runner spot fleets, for the spot fallback',
          eventPattern: {
            source: ['aws.autoscaling'],
            detailType: [FALLBACK_DETAIL_TYPES.launchUnsuccessful],
            detail: { AutoScalingGroupName: groupNames },
          },
          targets: [target],
        }),
      );
    });
    this.scheduleExpression = spotFallbackSchedule(`spot-fallback:${fleetNames.join(',')}`);
    rules.push(
      new events.Rule(this, 'Timer', {
        description: `Spot fallback timer for the GitLab runner fleets, ${this.scheduleExpression}`,
        schedule: events.Schedule.expression(this.scheduleExpression),
        targets: [target],
      }),
    );
    this.rules = rules;
  }
}
