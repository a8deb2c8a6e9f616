import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { parseFleetConfig, type FleetConfig } from '../../lib/config';
import { SpotFallback, spotFallbackConfig, spotFallbackSchedule, type SpotFallbackProps } from '../../lib/fleet/spot-fallback';
import { awsSolutionsFindings } from './nag';

function config(fleets: Array<Record<string, unknown>>, extra: Record<string, unknown> = {}): FleetConfig {
  return parseFleetConfig({
    ...extra,
    gitlab: { url: 'https://gitlab.example.com' },
    fleets: fleets.map((f) => ({ instanceTypes: ['m7g.large'], capacity: { max: 4 }, ...f })),
  });
}

const DEFAULT_FLEETS = [
  { name: 'alpha', computeType: 'spot' },
  { name: 'beta', computeType: 'spot', onDemandBase: 1, spotFallback: { afterMinutes: 0, returnAfterMinutes: 30 } },
  { name: 'steady', computeType: 'on-demand' },
];

let defaultSynth: ReturnType<typeof build> | undefined;
function synth(): ReturnType<typeof build> {
  defaultSynth ??= build();
  return defaultSynth;
}

function build(fleets = DEFAULT_FLEETS, props: Partial<SpotFallbackProps> = {}, extra: Record<string, unknown> = {}) {
  const app = new App();
  const stack = new Stack(app, 'Shared', { env: { account: '123456789012', region: 'eu-central-1' } });
  const c = config(fleets, extra);
  const fallback = new SpotFallback(stack, 'SpotFallback', { fleets: c.fleets, gitlab: c.gitlab, ...props });
  return { stack, fallback, template: Template.fromStack(stack) };
}

function policyStatements(template: Template): Array<Record<string, unknown>> {
  return Object.values(template.findResources('AWS::IAM::Policy')).flatMap(
    (p) => (p as { Properties: { PolicyDocument: { Statement: Array<Record<string, unknown>> } } }).Properties.PolicyDocument.Statement,
  );
}

describe('SpotFallback', () => {
  it('routes "EC2 Instance Launch Unsuccessful" events of the spot fleet groups only', () => {
    const { template } = synth();

    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.autoscaling'],
        'detail-type': ['EC2 Instance Launch Unsuccessful'],
        detail: { AutoScalingGroupName: ['gitlab-runner-fleet-alpha', 'gitlab-runner-fleet-beta'] },
      },
    });
  });

  it('ticks every 5 minutes at an offset derived from the fleet names, never on :00 or :05', () => {
    const { template, fallback } = synth();

    expect(fallback.scheduleExpression).toMatch(/^cron\([1-4]\/5 \* \* \* \? \*\)$/);
    template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: fallback.scheduleExpression });
    expect(spotFallbackSchedule('spot-fallback:alpha,beta')).toBe(fallback.scheduleExpression);
    const offsets = new Set(['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'].map((seed) => spotFallbackSchedule(seed)));
    expect(offsets.size).toBeGreaterThan(1);
  });

  it('sends events and ticks to one FIFO queue in one message group, deduplicated by content', () => {
    const { template } = synth();

    template.hasResourceProperties('AWS::SQS::Queue', {
      FifoQueue: true,
      ContentBasedDeduplication: true,
      SqsManagedSseEnabled: true,
      RedrivePolicy: { deadLetterTargetArn: Match.anyValue(), maxReceiveCount: 5 },
    });
    const targets = Object.values(template.findResources('AWS::Events::Rule')).flatMap(
      (r) => (r as { Properties: { Targets: Array<Record<string, unknown>> } }).Properties.Targets,
    );
    expect(targets).toHaveLength(2);
    expect(targets.every((t) => JSON.stringify(t.SqsParameters) === JSON.stringify({ MessageGroupId: 'spot-fallback' }))).toBe(true);
  });

  it('redrives failures to an encrypted FIFO dead-letter queue that raises an alarm at the first message', () => {
    const { template } = synth();

    const queues = Object.values(template.findResources('AWS::SQS::Queue')) as Array<{ Properties: Record<string, unknown> }>;
    expect(queues).toHaveLength(2);
    expect(queues.every((q) => q.Properties.SqsManagedSseEnabled === true && q.Properties.FifoQueue === true)).toBe(true);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Namespace: 'AWS/SQS',
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
    });
  });

  it('consumes the queue with a Lambda on arm64 that reports batch item failures', () => {
    const { template } = synth();

    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', { FunctionResponseTypes: ['ReportBatchItemFailures'] });
    template.hasResourceProperties('AWS::Lambda::Function', { Architectures: ['arm64'], Handler: 'index.handler' });
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 90 });
  });

  it('may change the on-demand base and tags of the spot fleet groups only', () => {
    const { template } = synth();

    const writes = policyStatements(template).filter((s) => JSON.stringify(s.Action).includes('autoscaling:UpdateAutoScalingGroup'));
    expect(writes).toHaveLength(1);
    expect(writes[0].Action).toEqual(['autoscaling:UpdateAutoScalingGroup', 'autoscaling:CreateOrUpdateTags']);
    const resources = JSON.stringify(writes[0].Resource);
    expect(resources).toContain(':autoScalingGroup:*:autoScalingGroupName/gitlab-runner-fleet-alpha');
    expect(resources).toContain(':autoScalingGroup:*:autoScalingGroupName/gitlab-runner-fleet-beta');
    expect(resources).not.toContain('gitlab-runner-fleet-steady');
  });

  it('may read groups and instances (Describe* needs "*") but nothing else on "*"', () => {
    const { template } = synth();

    const wildcard = policyStatements(template).filter((s) => s.Resource === '*');
    expect(wildcard.map((s) => s.Action)).toEqual([['autoscaling:DescribeAutoScalingGroups', 'ec2:DescribeInstances']]);
  });

  it('is clean under cdk-nag AwsSolutions, with a reason for each acknowledgement', () => {
    const { stack } = build();

    expect(awsSolutionsFindings(stack)).toEqual([]);
  });

  it('tells the Lambda each spot fleet settings and configured base, and leaves on-demand fleets out', () => {
    const c = config(DEFAULT_FLEETS);

    expect(spotFallbackConfig(c.fleets, c.gitlab).fleets.map((f) => [f.name, f.spotFallback])).toEqual([
      ['alpha', { enabled: true, onDemandBase: 0, afterMinutes: 10, returnAfterMinutes: 60 }],
      ['beta', { enabled: true, onDemandBase: 1, afterMinutes: 0, returnAfterMinutes: 30 }],
    ]);
  });

  it('keeps a spot fleet with the fallback off in the config, disabled, so a group left in fallback returns', () => {
    const c = config([{ name: 'alpha', computeType: 'spot', spotFallback: { enabled: false } }]);

    expect(spotFallbackConfig(c.fleets, c.gitlab).fleets[0].spotFallback).toMatchObject({ enabled: false });
  });

  it('refuses a set of fleets without a spot fleet and a bad maxReceiveCount, naming both', () => {
    const c = config([{ name: 'steady', computeType: 'on-demand' }]);
    const stack = new Stack(new App(), 'S');

    expect(() => new SpotFallback(stack, 'F', { fleets: c.fleets, gitlab: c.gitlab, maxReceiveCount: 0 })).toThrow(
      'SpotFallback: fleets must hold at least one spot fleet; maxReceiveCount (0) must be a whole number from 1 to 1000',
    );
  });

  it('splits the group names of up to 30 unnamed-deployment fleets across rules that fit the event pattern limit', () => {
    const { template } = build(Array.from({ length: 30 }, (_, i) => ({ name: `fleet-with-a-long-name-number-${i}`, computeType: 'spot' })));

    const scoped = Object.values(template.findResources('AWS::Events::Rule'))
      .map((r) => (r as { Properties: { EventPattern?: { detail: { AutoScalingGroupName: string[] } } } }).Properties.EventPattern)
      .filter((p) => p !== undefined);
    expect(scoped.flatMap((p) => p.detail.AutoScalingGroupName)).toHaveLength(30);
    for (const pattern of scoped) expect(JSON.stringify(pattern).length).toBeLessThanOrEqual(2048);
  });

  it('in a named deployment, matches and grants by group name prefix: constant size at any fleet count', () => {
    const { template } = build(
      Array.from({ length: 100 }, (_, i) => ({ name: `fleet-number-${i}`, computeType: 'spot' })),
      {},
      { deployment: 'ci' },
    );

    const scoped = Object.values(template.findResources('AWS::Events::Rule'))
      .map((r) => (r as { Properties: { EventPattern?: { detail: { AutoScalingGroupName: unknown[] } } } }).Properties.EventPattern)
      .filter((p) => p !== undefined);
    expect(scoped).toHaveLength(1);
    expect(scoped[0].detail.AutoScalingGroupName).toEqual([{ prefix: expect.stringContaining('ci') }]);
    const text = JSON.stringify(policyStatements(template));
    expect(text).not.toContain('fleet-number-');
  });
});
