/**
 * Builders for the EventBridge events the fleet Lambdas receive, shaped like AWS's documented
 * samples, and for the SQS records that carry them.
 */
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { autoScalingGroupName, LIFECYCLE_HOOKS } from '../../lib/identity/runner-identity';

export const FLEET = 'graviton-spot';
export const GROUP = autoScalingGroupName(FLEET);
export const TOKEN_SECRET = `gitlab-runner-fleet/${FLEET}/runner-token`;

export function terminateSuccessful(instanceId: string, group = GROUP): Record<string, unknown> {
  return {
    version: '0',
    id: `ts-${instanceId}`,
    'detail-type': 'EC2 Instance Terminate Successful',
    source: 'aws.autoscaling',
    detail: { StatusCode: 'InProgress', AutoScalingGroupName: group, ActivityId: 'a-1', EC2InstanceId: instanceId, Cause: 'scale-in' },
  };
}

export function terminateLifecycleAction(
  instanceId: string,
  opts: { group?: string; hook?: string; token?: string } = {},
): Record<string, unknown> {
  return {
    version: '0',
    id: `lc-${instanceId}`,
    'detail-type': 'EC2 Instance-terminate Lifecycle Action',
    source: 'aws.autoscaling',
    detail: {
      LifecycleActionToken: opts.token ?? '87654321-4321-4321-4321-210987654321',
      AutoScalingGroupName: opts.group ?? GROUP,
      LifecycleHookName: opts.hook ?? LIFECYCLE_HOOKS.terminate,
      EC2InstanceId: instanceId,
      LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING',
    },
  };
}

export function spotInterruption(instanceId: string): Record<string, unknown> {
  return {
    version: '0',
    id: `spot-${instanceId}`,
    'detail-type': 'EC2 Spot Instance Interruption Warning',
    source: 'aws.ec2',
    detail: { 'instance-id': instanceId, 'instance-action': 'terminate' },
  };
}

let counter = 0;

export function sqsRecord(event: unknown, receiveCount = 1): SQSRecord {
  counter += 1;
  return {
    messageId: `msg-${counter}`,
    receiptHandle: `rh-${counter}`,
    body: typeof event === 'string' ? event : JSON.stringify(event),
    attributes: {
      ApproximateReceiveCount: String(receiveCount),
      SentTimestamp: '0',
      SenderId: 'events',
      ApproximateFirstReceiveTimestamp: '0',
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:eu-central-1:123456789012:safety-net',
    awsRegion: 'eu-central-1',
  };
}

export function sqsEvent(...records: SQSRecord[]): SQSEvent {
  return { Records: records };
}

export const CAPACITY_ERROR_MESSAGE =
  'Could not launch Spot Instances. InsufficientInstanceCapacity - There is no Spot capacity available that matches your request. Launching EC2 instance failed.';

/** An "EC2 Instance Launch Unsuccessful" event as AWS documents it. */
export function launchUnsuccessful(time: Date, opts: { group?: string; message?: string } = {}): Record<string, unknown> {
  return {
    version: '0',
    id: `lu-${time.getTime()}`,
    'detail-type': 'EC2 Instance Launch Unsuccessful',
    source: 'aws.autoscaling',
    time: time.toISOString().replace(/\.\d+Z$/, 'Z'),
    detail: {
      StatusCode: 'Failed',
      AutoScalingGroupName: opts.group ?? GROUP,
      ActivityId: '87654321-4321-4321-4321-210987654321',
      Details: { 'Availability Zone': 'eu-central-1a', 'Subnet ID': 'subnet-12345678' },
      StatusMessage: opts.message ?? CAPACITY_ERROR_MESSAGE,
      EC2InstanceId: '',
      Cause: 'An instance was started in response to a difference between desired and actual capacity.',
    },
  };
}

/** The spot fallback timer's "Scheduled Event". */
export function scheduledTick(time: Date): Record<string, unknown> {
  return {
    version: '0',
    id: `tick-${time.getTime()}`,
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    time: time.toISOString().replace(/\.\d+Z$/, 'Z'),
    resources: ['arn:aws:events:eu-central-1:123456789012:rule/spot-fallback-timer'],
    detail: {},
  };
}
