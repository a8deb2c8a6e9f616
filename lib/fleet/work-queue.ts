/**
 * The queue in front of a fleet Lambda, as the safety net, the spot fallback and the demand
 * scaler all need it: an SQS queue (SQS-managed encryption, TLS only) whose messages move after
 * `maxReceiveCount` failed deliveries to a dead-letter queue, and an alarm that fires while that
 * dead-letter queue holds anything, since each message there is work that did not happen.
 *
 * A function rather than a construct: the three resources keep the logical ids they had before
 * this was shared (`DeadLetterQueue`, `Queue`, `DeadLetterAlarm` directly under the caller), so
 * deployed queues are not replaced, and their messages not lost, by a refactoring.
 */
import { Duration, Token, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';

export interface WorkQueueProps {
  /**
   * The Lambda's timeout: the queue's visibility timeout is six times it, as AWS advises for an
   * SQS event source, so a message is not handed out again while a retrying batch still runs.
   */
  readonly consumerTimeout: Duration;
  /** How long a message waiting for the Lambda stays useful. */
  readonly retentionPeriod: Duration;
  /** How long the dead-letter queue keeps what failed, for someone to look at. */
  readonly deadLetterRetentionPeriod: Duration;
  /** Deliveries of one message before it moves to the dead-letter queue. */
  readonly maxReceiveCount: number;
  /** Says what a message in the dead-letter queue means and where to look. */
  readonly alarmDescription: string;
  /** Names the queue whose dead-letter queue this is, for the cdk-nag acknowledgement. */
  readonly deadLetterReason: string;
  /**
   * First-in-first-out queues (with content-based deduplication), for work handled in order.
   * @default false
   */
  readonly fifo?: boolean;
  /**
   * How long each message waits before the Lambda can see it.
   * @default - none
   */
  readonly deliveryDelay?: Duration;
}

export interface WorkQueue {
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;
  /** In alarm while the dead-letter queue holds a message. */
  readonly deadLetterAlarm: cloudwatch.Alarm;
}

/** The problem with a `maxReceiveCount`, or undefined when it is a whole number from 1 to 1000 (the SQS range). */
export function maxReceiveCountProblem(maxReceiveCount: number): string | undefined {
  if (Token.isUnresolved(maxReceiveCount)) return undefined;
  if (Number.isInteger(maxReceiveCount) && maxReceiveCount >= 1 && maxReceiveCount <= 1000) return undefined;
  return `maxReceiveCount (${maxReceiveCount}) must be a whole number from 1 to 1000`;
}

/** Adds a work queue, its dead-letter queue and the dead-letter alarm to `scope`. */
export function addWorkQueue(scope: Construct, props: WorkQueueProps): WorkQueue {
  const fifo = props.fifo ? { fifo: true } : {};
  const deadLetterQueue = new sqs.Queue(scope, 'DeadLetterQueue', {
    ...fifo,
    encryption: sqs.QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    retentionPeriod: props.deadLetterRetentionPeriod,
  });
  const queue = new sqs.Queue(scope, 'Queue', {
    ...fifo,
    // A duplicate delivery within 5 minutes is dropped; later ones are harmless (the consumers are idempotent).
    ...(props.fifo ? { contentBasedDeduplication: true } : {}),
    encryption: sqs.QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    ...(props.deliveryDelay ? { deliveryDelay: props.deliveryDelay } : {}),
    visibilityTimeout: Duration.seconds(props.consumerTimeout.toSeconds() * 6),
    retentionPeriod: props.retentionPeriod,
    deadLetterQueue: { queue: deadLetterQueue, maxReceiveCount: props.maxReceiveCount },
  });
  const deadLetterAlarm = new cloudwatch.Alarm(scope, 'DeadLetterAlarm', {
    alarmDescription: props.alarmDescription,
    metric: deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: 'Maximum' }),
    threshold: 0,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    evaluationPeriods: 1,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  });
  Validations.of(deadLetterQueue).acknowledge({ id: 'AwsSolutions-SQS3', reason: props.deadLetterReason });
  return { queue, deadLetterQueue, deadLetterAlarm };
}
