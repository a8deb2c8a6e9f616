/**
 * Scheduled token rotation of a fleet that owns its GitLab runners (config
 * `gitlabRunner.rotation`): `runner-fleet rotate-token` without a workstation.
 *
 * An EventBridge Scheduler schedule, in the rotation's time zone at the fleet's own minute
 * (lib/config/token-rotation.ts), starts a Step Functions standard workflow: a Lambda step
 * begins the rotation (new runners, tokens into the secrets, instance refresh), then a wait
 * and check loop follows the roll and deletes each old runner once its last manager is gone.
 * A roll waits for every draining job (up to the job timeout per batch of instances), so it
 * takes hours; a workflow waits for free where a Lambda stops after 15 minutes, and each
 * Lambda step runs in seconds. The workflow's state holds runner ids and the refresh id only.
 *
 * Everything lives in the fleet's own stack and may touch only that fleet's token secrets,
 * access token secret and Auto Scaling group. A failed, timed-out or aborted rotation sets off
 * {@link ScheduledTokenRotation.failureAlarm}; the old runners then keep working.
 */
import { CfnElement, Duration, RemovalPolicy, Stack, TimeZone, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as schedulerTargets from 'aws-cdk-lib/aws-scheduler-targets';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import type { FleetSpec, GitLabSettings, TokenRotationSpec } from '../config/fleet-config';
import { rotationCronExpression } from '../config/token-rotation';
import { handlerConfig } from '../lambda/shared/handler-config';
import { rotationTarget } from '../rotation/rotation-target';
import { rotationTimeoutMinutes } from '../rotation/token-rotation';
import { FleetLambdaFunction } from './fleet-lambda';

export interface ScheduledTokenRotationProps {
  /** The fleet; `fleet.managedRunner` names the runners and the access token. */
  readonly fleet: FleetSpec;
  /** When and how often; `fleet.managedRunner.rotation` in a config. */
  readonly rotation: TokenRotationSpec;
  readonly gitlab: GitLabSettings;
  /** The fleet's runner token secrets, which the rotation reads and writes. */
  readonly tokenSecrets: readonly secretsmanager.ISecret[];
  /**
   * Time between checks of the roll.
   * @default Duration.minutes(5)
   */
  readonly pollInterval?: Duration;
  /**
   * Longest a rotation may take before it counts as failed (old runners are then kept).
   * @default - from the job timeout and minHealthyPercentage (rotationTimeoutMinutes)
   */
  readonly timeout?: Duration;
  /**
   * Where the failure alarm sends its state changes.
   * @default - no alarm actions
   */
  readonly alarmTopic?: sns.ITopic;
  /**
   * Retention of the function's and the workflow's logs.
   * @default logs.RetentionDays.THREE_MONTHS
   */
  readonly logRetention?: logs.RetentionDays;
}

export class ScheduledTokenRotation extends Construct {
  public readonly handler: FleetLambdaFunction;
  public readonly stateMachine: sfn.StateMachine;
  public readonly schedule: scheduler.Schedule;
  /** The EventBridge Scheduler expression, read in {@link timeZone}. */
  public readonly expression: string;
  public readonly timeZone: string;
  /** In alarm when a rotation failed, timed out or was aborted; the old runners and tokens keep working. */
  public readonly failureAlarm: cloudwatch.Alarm;
  /** Dead-letter queue of the schedule: starts of the workflow that could not be delivered. */
  public readonly scheduleDeadLetters: sqs.Queue;
  /** In alarm while the schedule's dead-letter queue holds a start that never happened. */
  public readonly scheduleAlarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: ScheduledTokenRotationProps) {
    super(scope, id);
    const { fleet, rotation } = props;
    const managed = fleet.managedRunner;
    if (!managed) throw new Error(`ScheduledTokenRotation: fleet ${fleet.name} has no managedRunner settings`);
    if (props.tokenSecrets.length === 0) throw new Error('ScheduledTokenRotation: tokenSecrets must hold the fleet token secret(s)');
    const pollInterval = props.pollInterval ?? Duration.minutes(5);
    if (pollInterval.toSeconds() < 60)
      throw new Error(`ScheduledTokenRotation: pollInterval (${pollInterval.toHumanString()}) must be >= 1 minute`);
    const timeoutMinutes = props.timeout?.toMinutes() ?? rotationTimeoutMinutes(fleet.maxJobTimeoutMinutes, fleet.minHealthyPercentage);
    const logRetention = props.logRetention ?? logs.RetentionDays.THREE_MONTHS;
    const target = rotationTarget(fleet);

    this.handler = new FleetLambdaFunction(this, 'Handler', {
      handler: 'token-rotation',
      description: `GitLab runner fleet ${fleet.name}: scheduled token rotation steps (new runner, secret, roll, old runner deleted)`,
      config: handlerConfig([fleet], props.gitlab, { rotation: { target, timeoutMinutes } }),
      caCertificate: props.gitlab.caCertificate,
      // A step takes seconds; GitLab answering slowly with retries (10 s a try, 5 tries a call)
      // must not cut a start short between creating a runner and storing its token.
      timeout: Duration.minutes(10),
      logRetention,
    });
    this.handler.grantReadSecrets(
      'ReadGitLabAccessToken',
      [managed.accessTokenSecretName],
      'Name-based secret ARN: Secrets Manager appends "-" and six random characters to the name; the wildcard matches only those six.',
      fleet.deployment,
    );
    this.handler.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'RotateOwnRunnerTokens',
        actions: ['secretsmanager:GetSecretValue', 'secretsmanager:PutSecretValue'],
        resources: props.tokenSecrets.map((secret) => secret.secretArn),
      }),
    );
    this.handler.grantOnFleetGroup('RollOwnGroup', ['autoscaling:StartInstanceRefresh'], target.autoScalingGroupName);
    this.handler.grantDescribe(
      'FollowInstanceRefresh',
      ['autoscaling:DescribeInstanceRefreshes'],
      'DescribeInstanceRefreshes supports no resource-level permissions; AWS requires "*". It is read-only.',
    );

    this.stateMachine = this.workflow(fleet.name, target.autoScalingGroupName, pollInterval, timeoutMinutes, logRetention);

    this.timeZone = rotation.timeZone;
    this.expression = rotationCronExpression(rotation.slot, rotation.everyMonths);
    // Where the schedule puts a start it could not deliver (after its retries): an execution
    // that never began fails no execution, so the failure alarm alone would stay quiet.
    this.scheduleDeadLetters = new sqs.Queue(this, 'ScheduleDeadLetters', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(this.scheduleDeadLetters).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This queue is the dead-letter queue of the token rotation schedule; nothing consumes it, its depth is alarmed.',
    });
    this.schedule = new scheduler.Schedule(this, 'Schedule', {
      description: `Token rotation of GitLab runner fleet ${fleet.name}: ${this.expression} ${this.timeZone} (every ${rotation.everyMonths} month(s), window ${rotation.window})`,
      schedule: scheduler.ScheduleExpression.expression(this.expression, TimeZone.of(this.timeZone)),
      target: new schedulerTargets.StepFunctionsStartExecution(this.stateMachine, {
        input: scheduler.ScheduleTargetInput.fromObject({ fleet: fleet.name }),
        // A start that never happened is caught by the next run; a late one must not run in working hours.
        maxEventAge: Duration.hours(1),
        retryAttempts: 3,
        deadLetterQueue: this.scheduleDeadLetters,
      }),
      enabled: rotation.enabled,
    });

    this.failureAlarm = new cloudwatch.Alarm(this, 'FailureAlarm', {
      alarmDescription: `GitLab runner fleet ${fleet.name}: a scheduled token rotation failed, timed out or was aborted; its old runner and token keep working. See the workflow's execution history and \`runner-fleet status ${fleet.name}\`.`,
      metric: new cloudwatch.MathExpression({
        // FILL: a period with one kind of end only must still add up (an absent series is no 0).
        expression: 'FILL(failed, 0) + FILL(timedOut, 0) + FILL(aborted, 0)',
        usingMetrics: {
          failed: this.stateMachine.metricFailed({ statistic: 'Sum' }),
          timedOut: this.stateMachine.metricTimedOut({ statistic: 'Sum' }),
          aborted: this.stateMachine.metricAborted({ statistic: 'Sum' }),
        },
        period: Duration.minutes(5),
        label: 'rotations failed, timed out or aborted',
      }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.scheduleAlarm = new cloudwatch.Alarm(this, 'ScheduleAlarm', {
      alarmDescription: `GitLab runner fleet ${fleet.name}: the token rotation schedule could not start its workflow (see the message in its dead-letter queue); no rotation ran.`,
      metric: this.scheduleDeadLetters.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: 'Maximum' }),
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    if (props.alarmTopic) this.notify(props.alarmTopic);
  }

  /** Sends both alarms' state changes to `topic`. */
  public notify(topic: sns.ITopic): void {
    for (const alarm of [this.failureAlarm, this.scheduleAlarm]) alarm.addAlarmAction(new cloudwatchActions.SnsAction(topic));
  }

  /** Start, then wait and check until the roll is done or failed. */
  private workflow(
    fleetName: string,
    groupName: string,
    pollInterval: Duration,
    timeoutMinutes: number,
    logRetention: logs.RetentionDays,
  ): sfn.StateMachine {
    const lambdaFunction = this.handler.function;
    const start = new tasks.LambdaInvoke(this, 'Start', {
      comment: 'New runner(s), their tokens into the secrets, instance refresh; rolled back on failure',
      lambdaFunction,
      payload: sfn.TaskInput.fromObject({ action: 'start' }),
      payloadResponseOnly: true,
      // Not idempotent (a second run creates more runners): a start that failed is left failed,
      // which changes nothing and alarms, rather than retried.
      retryOnServiceExceptions: false,
    });
    const wait = new sfn.Wait(this, 'WaitForRoll', { time: sfn.WaitTime.duration(pollInterval) });
    const check = new tasks.LambdaInvoke(this, 'Check', {
      comment: 'Refresh state; each old runner deleted once no manager uses it',
      lambdaFunction,
      payload: sfn.TaskInput.fromObject({ action: 'check', 'rotation.$': '$.rotation' }),
      payloadResponseOnly: true,
    });
    // A check is idempotent: GitLab or AWS unavailable for a while only delays the roll.
    check.addRetry({ errors: ['States.ALL'], interval: Duration.minutes(1), maxAttempts: 5, backoffRate: 2 });
    const notStarted = new sfn.Fail(this, 'NotStarted', {
      error: 'TokenRotationNotStarted',
      causePath: '$.error.Cause',
      comment: 'The old runners and tokens are unchanged (or, if an instance already used a new runner, kept beside it)',
    });
    const checkFailed = new sfn.Fail(this, 'CheckFailed', { error: 'TokenRotationCheckFailed', causePath: '$.error.Cause' });
    start.addCatch(notStarted, { resultPath: '$.error' });
    check.addCatch(checkFailed, { resultPath: '$.error' });
    const failed = new sfn.Fail(this, 'RollFailed', { error: 'TokenRotationFailed', causePath: '$.message' });
    const done = new sfn.Succeed(this, 'Rotated');
    const finished = new sfn.Choice(this, 'Finished')
      .when(sfn.Condition.stringEquals('$.phase', 'done'), done)
      .when(sfn.Condition.stringEquals('$.phase', 'failed'), failed)
      .otherwise(wait);
    start.next(wait);
    wait.next(check);
    check.next(finished);

    const logGroup = new logs.LogGroup(this, 'WorkflowLogs', {
      // Step Functions adds every log group it writes to the account's CloudWatch Logs resource
      // policy (5,120 characters) unless its name starts with /aws/vendedlogs/: a few dozen
      // rotating fleets would fill it.
      logGroupName: `/aws/vendedlogs/states/${groupName}-token-rotation`,
      retention: logRetention,
      // A named group kept after the stack would block creating the fleet again.
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const stateMachine = new sfn.StateMachine(this, 'Workflow', {
      comment: `Token rotation of GitLab runner fleet ${fleetName}`,
      stateMachineType: sfn.StateMachineType.STANDARD,
      definitionBody: sfn.DefinitionBody.fromChainable(start),
      // The workflow's own deadline is the check step's; this one only ends a stuck execution.
      timeout: Duration.minutes(timeoutMinutes + 60),
      // The states carry runner ids, a refresh id and times only, never a token.
      logs: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: true },
    });
    const functionId = Stack.of(this).getLogicalId(lambdaFunction.node.defaultChild as CfnElement);
    Validations.of(stateMachine.role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${functionId}.Arn>:*]`,
      reason: 'The wildcard is the version or alias qualifier of the one rotation function of this fleet (granted by LambdaInvoke).',
    });
    Validations.of(stateMachine.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'Step Functions log delivery (logs:*LogDelivery, PutResourcePolicy, DescribeResourcePolicies, DescribeLogGroups) supports no resource-level permissions; AWS requires "*". The role can invoke nothing but the rotation function.',
    });
    Validations.of(stateMachine).acknowledge({
      id: 'AwsSolutions-SF2',
      reason:
        'Two Lambda steps a few times a year: the execution history and the ALL-level logs show every step, and X-Ray would add a role statement on "*" for no extra insight.',
    });
    return stateMachine;
  }
}
