/**
 * The safety net behind the drain agent: one Lambda for all fleets that deletes the GitLab
 * runner manager of an instance that died before its agent could, and completes its terminate
 * lifecycle action, so no manager is left behind and no group waits longer than needed.
 *
 * EventBridge rules (scoped to the fleets' groups where AWS allows it) feed an SQS queue with a
 * delivery delay, so the instance's own agent gets the first go; the Lambda reports failed
 * records individually, SQS retries them and finally moves them to a dead-letter queue, which
 * raises an alarm.
 */
import { Annotations, Duration, Token } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { FleetSpec, GitLabSettings } from '../config/fleet-config';
import { DETAIL_TYPES, SPOT_MAX_CHECKS } from '../lambda/safety-net/core';
import { handlerConfig } from '../lambda/shared/handler-config';
import { deploymentOfFleets, FleetLambdaFunction } from './fleet-lambda';
import { addWorkQueue, maxReceiveCountProblem } from './work-queue';
import { autoScalingGroupNamePrefix } from '../identity/deployment';
import { gitlabUrlProblem } from '../identity/gitlab-url';
import { autoScalingGroupName } from '../identity/runner-identity';
import { FLEET_GROUP_NAME_PREFIX, REGISTERED_TOKEN_SECRET_PREFIX } from '../identity/fleet-registry';

/** EventBridge rejects event patterns above 2048 characters (default quota); names are split across rules below that. */
export const MAX_EVENT_PATTERN_CHARS = 2048;

export interface RunnerFleetSafetyNetProps {
  /** The fleets to watch; events of other groups are not delivered (spot notices are filtered by the Lambda). */
  readonly fleets: readonly FleetSpec[];
  /**
   * SSM path of a fleet registry (lib/identity/fleet-registry.ts): fleets registered there for
   * `gitlab.url` are watched too, so fleets launched after this deploy (Service Catalog products)
   * join without a redeploy. Events of every group named like a fleet group are then delivered.
   * @default - no registry: only `fleets`, which must then hold at least one fleet
   */
  readonly registryPath?: string;
  /** The GitLab the fleets' runners are registered with. */
  readonly gitlab: GitLabSettings;
  /**
   * Secret holding a GitLab API token (the orphan reaper's). With it, after deregistering a machine,
   * the safety net cancels and retries the jobs GitLab still shows running on it (lost in the
   * graceful-stop race); the token then needs the api scope and Developer on the projects.
   * @default - none: such jobs fail at their timeout
   */
  readonly apiTokenSecretName?: string;
  /**
   * How long an event waits in the queue before the Lambda sees it, so the instance's drain agent
   * acts first (it heartbeats a lifecycle action within its first interval). At most 15 minutes.
   * @default Duration.minutes(2)
   */
  readonly deliveryDelay?: Duration;
  /**
   * Deliveries of one event before it moves to the dead-letter queue. Failed records come back
   * after the visibility timeout (6 x the function timeout), so 5 covers a GitLab outage of ~45 minutes.
   * @default 5
   */
  readonly maxReceiveCount?: number;
  /**
   * Retention of the function's logs.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Concurrent executions reserved (and capped) for the function. Not reserved by default:
   * accounts at the minimum concurrency quota (10, common for new accounts) cannot reserve any
   * and the deploy would fail. The queue's event source caps concurrency at
   * `maxConcurrency` either way.
   * @default - none reserved
   */
  readonly reservedConcurrentExecutions?: number;
}

/** Time the Lambda may take for one batch: a GitLab call is retried for up to ~25 s. */
const FUNCTION_TIMEOUT = Duration.seconds(90);

export class RunnerFleetSafetyNet extends Construct {
  public readonly function: lambda.Function;
  /** Events wait here, delayed, for the Lambda. */
  public readonly queue: sqs.Queue;
  /** Events the Lambda could not handle after `maxReceiveCount` deliveries, and events EventBridge could not deliver. */
  public readonly deadLetterQueue: sqs.Queue;
  /** In alarm while the dead-letter queue holds a message: a manager may be left behind. Add actions to notify someone. */
  public readonly deadLetterAlarm: cloudwatch.Alarm;
  public readonly rules: readonly events.Rule[];

  constructor(scope: Construct, id: string, props: RunnerFleetSafetyNetProps) {
    super(scope, id);
    const deliveryDelay = props.deliveryDelay ?? Duration.minutes(2);
    const maxReceiveCount = props.maxReceiveCount ?? 5;
    validate(props, deliveryDelay, maxReceiveCount);
    const deployment = deploymentOfFleets(props.fleets);
    if (!Token.isUnresolved(maxReceiveCount) && maxReceiveCount <= SPOT_MAX_CHECKS) {
      Annotations.of(this).addWarningV2(
        'gitlab-runner-fleet:safety-net-max-receive-count',
        `maxReceiveCount (${maxReceiveCount}) should be > ${SPOT_MAX_CHECKS}: a spot notice is looked at up to ${SPOT_MAX_CHECKS} times while its instance still runs, and would reach the dead-letter queue (and its alarm) with no failure behind it`,
      );
    }

    ({
      queue: this.queue,
      deadLetterQueue: this.deadLetterQueue,
      deadLetterAlarm: this.deadLetterAlarm,
    } = addWorkQueue(this, {
      consumerTimeout: FUNCTION_TIMEOUT,
      deliveryDelay,
      retentionPeriod: Duration.days(4),
      deadLetterRetentionPeriod: Duration.days(14),
      maxReceiveCount,
      alarmDescription:
        'GitLab runner fleet safety net: events it could not handle. A runner manager may be left in GitLab; see the safety-net logs for the instance id.',
      deadLetterReason:
        'This is the dead-letter queue of the safety-net queue and of the EventBridge targets; it has no dead-letter queue of its own.',
    }));

    const lambdaFunction = new FleetLambdaFunction(this, 'Handler', {
      handler: 'safety-net',
      description: 'GitLab runner fleets: deregisters runner managers of terminated instances and completes their lifecycle actions',
      config: handlerConfig(props.fleets, props.gitlab, {
        ...(props.registryPath ? { registryPath: props.registryPath } : {}),
        ...(props.apiTokenSecretName ? { apiTokenSecretName: props.apiTokenSecretName } : {}),
      }),
      caCertificate: props.gitlab.caCertificate,
      timeout: FUNCTION_TIMEOUT,
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      logRetention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
    });
    this.function = lambdaFunction.function;
    const fleetNames = props.fleets.map((f) => f.name);
    if (props.registryPath) {
      lambdaFunction.grantOnAllFleetGroups('CompleteFleetLifecycleActions', ['autoscaling:CompleteLifecycleAction']);
      lambdaFunction.grantReadRegistry('ReadFleetRegistry', props.registryPath);
    } else {
      lambdaFunction.grantOnFleetGroups('CompleteFleetLifecycleActions', ['autoscaling:CompleteLifecycleAction'], fleetNames, deployment);
    }
    lambdaFunction.grantReadSecrets(
      'ReadFleetRunnerTokens',
      [
        ...props.fleets.flatMap((f) => [
          f.runnerTokenSecretName,
          ...(f.onDemandRunnerTokenSecretName ? [f.onDemandRunnerTokenSecretName] : []),
        ]),
        ...(props.registryPath ? [`${REGISTERED_TOKEN_SECRET_PREFIX}*`] : []),
        ...(props.apiTokenSecretName ? [props.apiTokenSecretName] : []),
      ],
      props.registryPath
        ? 'Registered fleets keep their token secrets under the gitlab-runner-fleet/ prefix (a fleet product allows no other name), and are only known at run time.'
        : 'Name-based secret ARN: Secrets Manager appends "-" and six random characters to the name; the wildcard matches only those six.',
      deployment,
    );
    lambdaFunction.grantDescribe(
      'DescribeInstances',
      ['ec2:DescribeInstances'],
      'ec2:DescribeInstances supports no resource-level permissions; AWS requires "*". It is read-only.',
    );
    this.function.addEventSource(new SqsEventSource(this.queue, { batchSize: 10, reportBatchItemFailures: true, maxConcurrency: 2 }));

    const target = new targets.SqsQueue(this.queue, {
      deadLetterQueue: this.deadLetterQueue,
      retryAttempts: 185,
      maxEventAge: Duration.hours(24),
    });
    const rules: events.Rule[] = [];
    // A named deployment's groups share a prefix: one rule of constant size at any fleet count.
    const groupNameMatches: string[][] = props.registryPath
      ? [events.Match.prefix(FLEET_GROUP_NAME_PREFIX)]
      : deployment !== undefined
        ? [events.Match.prefix(autoScalingGroupNamePrefix(deployment))]
        : chunkGroupNames(props.fleets.map((f) => autoScalingGroupName(f.name)));
    groupNameMatches.forEach((groupNames, i) => {
      rules.push(
        new events.Rule(this, i === 0 ? 'FleetTerminations' : `FleetTerminations${i + 1}`, {
          description: 'Terminations of GitLab runner fleet instances, for the safety net',
          eventPattern: {
            source: ['aws.autoscaling'],
            detailType: [DETAIL_TYPES.terminateLifecycleAction, DETAIL_TYPES.terminateSuccessful],
            detail: { AutoScalingGroupName: groupNames },
          },
          targets: [target],
        }),
      );
    });
    rules.push(
      new events.Rule(this, 'SpotInterruptions', {
        description: 'Spot interruption warnings; the safety net ignores instances outside the runner fleets',
        eventPattern: { source: ['aws.ec2'], detailType: [DETAIL_TYPES.spotInterruption] },
        targets: [target],
      }),
    );
    this.rules = rules;
  }
}

function validate(props: RunnerFleetSafetyNetProps, deliveryDelay: Duration, maxReceiveCount: number): void {
  const problems: string[] = [];
  if (props.fleets.length === 0 && !props.registryPath) problems.push('fleets must hold at least one fleet (or give a registryPath)');
  const urlProblem = Token.isUnresolved(props.gitlab.url) ? undefined : gitlabUrlProblem(props.gitlab.url);
  if (urlProblem) problems.push(`gitlab.url ${urlProblem}`);
  if (!Token.isUnresolved(deliveryDelay.toSeconds()) && deliveryDelay.toSeconds() > 900) {
    problems.push(`deliveryDelay (${deliveryDelay.toSeconds()} s) must be at most 900 s (SQS limit)`);
  }
  const receiveProblem = maxReceiveCountProblem(maxReceiveCount);
  if (receiveProblem) problems.push(receiveProblem);
  if (problems.length > 0) throw new Error(`RunnerFleetSafetyNet: ${problems.join('; ')}`);
}

/**
 * Splits group names so that each rule's event pattern stays well under EventBridge's size
 * limit (about 1,600 characters of names per rule, leaving room for the rest of the pattern).
 */
export function chunkGroupNames(names: readonly string[], budget = MAX_EVENT_PATTERN_CHARS - 450): string[][] {
  const chunks: string[][] = [];
  let current: string[] = [];
  let size = 0;
  for (const name of names) {
    const cost = JSON.stringify(name).length + 1;
    if (current.length > 0 && size + cost > budget) {
      chunks.push(current);
      current = [];
      size = 0;
    }
    current.push(name);
    size += cost;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}
