/**
 * Demand scaling for the fleets of a deployment: a GitLab job-events webhook on a Lambda
 * function URL, an SQS queue that batches its signals, and a scaler Lambda that sets each
 * demand-scaled fleet's desired capacity within the schedule's envelope and removes idle
 * instances first (see lib/scaling/decide.ts and docs/scaling.md).
 *
 * The function URL has no IAM auth because GitLab cannot sign requests; it authenticates with
 * the X-Gitlab-Token shared secret (Secrets Manager, compared in constant time), refuses bodies
 * over 64 KB, and only ever queues a small message: it can start no instance itself.
 */
import { CfnOutput, Duration, Token } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { DemandSettings, FleetSpec, GitLabSettings } from '../config/fleet-config';
import { demandHandlerConfig } from '../lambda/shared/demand-config';
import { handlerConfig } from '../lambda/shared/handler-config';
import { FleetLambdaFunction } from './fleet-lambda';
import { addWorkQueue } from './work-queue';

const SCALER_TIMEOUT = Duration.seconds(30);

export interface FleetDemandScalingProps {
  /** All fleets of the deployment; only those with `demandScaling` are scaled. */
  readonly fleets: readonly FleetSpec[];
  readonly gitlab: GitLabSettings;
  readonly settings: DemandSettings;
  /**
   * Retention of the two functions' logs (they also carry the EMF metrics).
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
}

export class FleetDemandScaling extends Construct {
  public readonly webhookFunction: lambda.Function;
  public readonly webhookUrl: lambda.FunctionUrl;
  public readonly scalerFunction: lambda.Function;
  public readonly queue: sqs.Queue;
  public readonly deadLetterQueue: sqs.Queue;
  public readonly deadLetterAlarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: FleetDemandScalingProps) {
    super(scope, id);
    const demandFleets = props.fleets.filter((f) => f.demandScaling !== undefined);
    const interval = props.settings.scalerIntervalMinutes;
    const problems: string[] = [];
    if (demandFleets.length === 0) problems.push('fleets must hold at least one fleet with demandScaling');
    if (!Token.isUnresolved(interval) && !(Number.isInteger(interval) && interval >= 1 && interval <= 15)) {
      problems.push(`settings.scalerIntervalMinutes (${interval}) must be a whole number from 1 to 15`);
    }
    if (problems.length > 0) throw new Error(`FleetDemandScaling: ${problems.join('; ')}`);
    const config = handlerConfig(demandFleets, props.gitlab, {
      demand: demandHandlerConfig(demandFleets, props.settings.webhookSecretName, props.settings.poll),
    });
    const logRetention = props.logRetention ?? logs.RetentionDays.ONE_MONTH;

    ({
      queue: this.queue,
      deadLetterQueue: this.deadLetterQueue,
      deadLetterAlarm: this.deadLetterAlarm,
    } = addWorkQueue(this, {
      consumerTimeout: SCALER_TIMEOUT,
      // A job signal older than this describes a queue that has long changed; the next tick rescans anyway.
      retentionPeriod: Duration.hours(1),
      deadLetterRetentionPeriod: Duration.days(4),
      maxReceiveCount: 5,
      alarmDescription: 'GitLab runner fleet demand scaler: job signals it could not act on; see the scaler logs.',
      deadLetterReason: 'This is the dead-letter queue of the demand queue; it has no dead-letter queue of its own.',
    }));

    const webhook = new FleetLambdaFunction(this, 'Webhook', {
      handler: 'demand-webhook',
      description: 'GitLab runner fleets: job-events webhook, queues demand signals for the scaler',
      config,
      timeout: Duration.seconds(5),
      memorySize: 256,
      logRetention,
    });
    this.webhookFunction = webhook.function;
    this.webhookFunction.addEnvironment('DEMAND_QUEUE_URL', this.queue.queueUrl);
    (this.webhookFunction.node.defaultChild as lambda.CfnFunction).addMetadata('checkov', {
      skip: [
        {
          id: 'CKV_AWS_173',
          comment: 'The only variable is the queue URL, which is not a secret; Lambda encrypts variables at rest anyway.',
        },
      ],
    });
    this.queue.grantSendMessages(webhook.role);
    webhook.grantReadSecrets(
      'ReadWebhookToken',
      [props.settings.webhookSecretName],
      'Name-based secret ARN: Secrets Manager appends "-" and six random characters to the name; the wildcard matches only those six.',
    );
    this.webhookUrl = this.webhookFunction.addFunctionUrl({ authType: lambda.FunctionUrlAuthType.NONE });
    (this.webhookUrl.node.defaultChild as lambda.CfnUrl).addMetadata('checkov', {
      skip: [
        {
          id: 'CKV_AWS_258',
          comment: 'GitLab webhooks cannot sign with SigV4; the handler authenticates the X-Gitlab-Token secret in constant time.',
        },
      ],
    });

    const scaler = new FleetLambdaFunction(this, 'Scaler', {
      handler: 'demand-scaler',
      description: 'GitLab runner fleets: scales demand-scaled fleets within their schedule, idle instances first',
      config,
      caCertificate: props.gitlab.caCertificate,
      timeout: SCALER_TIMEOUT,
      logRetention,
    });
    this.scalerFunction = scaler.function;
    scaler.grantOnFleetGroups(
      'ScaleDemandFleets',
      ['autoscaling:SetDesiredCapacity', 'autoscaling:TerminateInstanceInAutoScalingGroup'],
      demandFleets.map((f) => f.name),
      demandFleets[0]?.deployment,
    );
    scaler.grantDescribe(
      'ReadFleetGroups',
      ['autoscaling:DescribeAutoScalingGroups', 'ec2:DescribeInstances'],
      'DescribeAutoScalingGroups and DescribeInstances support no resource-level permissions; AWS requires "*". Both are read-only.',
    );
    if (props.settings.poll) {
      scaler.grantReadSecrets(
        'ReadPollToken',
        [props.settings.poll.apiTokenSecretName],
        'Name-based secret ARN: Secrets Manager appends "-" and six random characters to the name; the wildcard matches only those six.',
      );
    }
    // Batches: a burst of events becomes one invocation per batch, one scaling call per fleet.
    this.scalerFunction.addEventSource(
      new SqsEventSource(this.queue, {
        batchSize: 100,
        maxBatchingWindow: Duration.seconds(2),
        reportBatchItemFailures: true,
        maxConcurrency: 2,
      }),
    );
    // A rate schedule runs relative to when the rule was created, not on the round minute (seed 000).
    new events.Rule(this, 'Tick', {
      description: `Demand scaler tick for the GitLab runner fleets: idle scale-in and missed events, every ${interval} min`,
      schedule: events.Schedule.rate(Duration.minutes(interval)),
      targets: [new targets.LambdaFunction(this.scalerFunction, { retryAttempts: 0 })],
    });

    new CfnOutput(this, 'WebhookUrl', {
      description: 'URL for the GitLab job-events webhook (project or group settings > Webhooks, trigger: Job events)',
      value: this.webhookUrl.url,
    });
  }
}
