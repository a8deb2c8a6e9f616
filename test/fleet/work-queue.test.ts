import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { addWorkQueue, maxReceiveCountProblem, type WorkQueueProps } from '../../lib/fleet/work-queue';
import { awsSolutionsFindings } from './nag';

const BASE: WorkQueueProps = {
  consumerTimeout: Duration.seconds(90),
  retentionPeriod: Duration.days(4),
  deadLetterRetentionPeriod: Duration.days(14),
  maxReceiveCount: 5,
  alarmDescription: 'work that did not happen',
  deadLetterReason: 'the dead-letter queue of the test queue',
};

function build(props: Partial<WorkQueueProps> = {}) {
  const stack = new Stack(new App(), 'Shared', { env: { account: '123456789012', region: 'eu-central-1' } });
  const workQueue = addWorkQueue(stack, { ...BASE, ...props });
  return { stack, workQueue, template: Template.fromStack(stack) };
}

describe('addWorkQueue', () => {
  it('given the defaults, when synthesized, then the queue is standard, encrypted, with 6x the consumer timeout and a dead-letter queue', () => {
    const { template, stack, workQueue } = build();
    template.resourceCountIs('AWS::SQS::Queue', 2);
    template.hasResourceProperties('AWS::SQS::Queue', {
      SqsManagedSseEnabled: true,
      VisibilityTimeout: 540,
      MessageRetentionPeriod: 4 * 86_400,
      RedrivePolicy: {
        deadLetterTargetArn: { 'Fn::GetAtt': [stack.getLogicalId(workQueue.deadLetterQueue.node.defaultChild as never), 'Arn'] },
        maxReceiveCount: 5,
      },
      FifoQueue: Match.absent(),
      DelaySeconds: Match.absent(),
    });
    template.hasResourceProperties('AWS::SQS::Queue', { MessageRetentionPeriod: 14 * 86_400, RedrivePolicy: Match.absent() });
  });

  it('given the defaults, when synthesized, then both queues refuse requests without TLS', () => {
    const { template } = build();
    template.resourceCountIs('AWS::SQS::QueuePolicy', 2);
    template.allResourcesProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]),
      },
    });
  });

  it('given fifo, when synthesized, then both queues are FIFO and the work queue deduplicates by content', () => {
    const { template } = build({ fifo: true });
    template.allResourcesProperties('AWS::SQS::Queue', { FifoQueue: true });
    template.hasResourceProperties('AWS::SQS::Queue', {
      FifoQueue: true,
      ContentBasedDeduplication: true,
      RedrivePolicy: Match.anyValue(),
    });
  });

  it('given a delivery delay, when synthesized, then only the work queue delays its messages', () => {
    const { template } = build({ deliveryDelay: Duration.minutes(2) });
    template.hasResourceProperties('AWS::SQS::Queue', { DelaySeconds: 120, RedrivePolicy: Match.anyValue() });
    template.hasResourceProperties('AWS::SQS::Queue', { DelaySeconds: Match.absent(), RedrivePolicy: Match.absent() });
  });

  it('given any work queue, when synthesized, then an alarm fires while the dead-letter queue holds a message', () => {
    const { template } = build();
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmDescription: 'work that did not happen',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Namespace: 'AWS/SQS',
      Statistic: 'Maximum',
      Period: 300,
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'notBreaching',
    });
  });

  it('given any work queue, when cdk-nag runs, then the dead-letter queue has no finding (acknowledged with the reason)', () => {
    const { stack } = build();
    expect(awsSolutionsFindings(stack)).toEqual([]);
  });

  it('given a scope, when the queues are added, then they keep the logical ids the constructs had before (no replacement on deploy)', () => {
    const { template } = build();
    const ids = Object.keys(template.toJSON().Resources as object);
    expect(ids.filter((id) => /^(DeadLetterQueue|Queue|DeadLetterAlarm)[0-9A-F]{8}$/.test(id))).toHaveLength(3);
  });
});

describe('maxReceiveCountProblem', () => {
  it.each([1, 5, 1000])('given %s, then there is no problem', (count) => {
    expect(maxReceiveCountProblem(count)).toBeUndefined();
  });

  it.each([0, -1, 1.5, 1001])('given %s, then the problem names the prop and the range', (count) => {
    expect(maxReceiveCountProblem(count)).toBe(`maxReceiveCount (${count}) must be a whole number from 1 to 1000`);
  });
});
