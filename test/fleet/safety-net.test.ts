import { App, Duration, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { parseFleetConfig, type FleetConfig } from '../../lib/config';
import { chunkGroupNames, RunnerFleetSafetyNet, type RunnerFleetSafetyNetProps } from '../../lib/fleet/safety-net';
import { awsSolutionsFindings } from './nag';

function config(fleetNames: string[], extra: Record<string, unknown> = {}, deployment?: string): FleetConfig {
  return parseFleetConfig({
    ...(deployment ? { deployment } : {}),
    gitlab: { url: 'https://gitlab.example.com', ...extra },
    fleets: fleetNames.map((name) => ({ name, computeType: 'spot', instanceTypes: ['m7g.large'], capacity: { max: 2 } })),
  });
}

let defaultSynth: ReturnType<typeof build> | undefined;

/** The default stack is built once and shared by the tests that only read it. */
function synth(...args: Parameters<typeof build>): ReturnType<typeof build> {
  if (args.length > 0) return build(...args);
  defaultSynth ??= build();
  return defaultSynth;
}

function build(
  fleetNames = ['alpha', 'beta'],
  props: Partial<RunnerFleetSafetyNetProps> = {},
  extra: Record<string, unknown> = {},
  deployment?: string,
) {
  const app = new App();
  const stack = new Stack(app, 'Shared', { env: { account: '123456789012', region: 'eu-central-1' } });
  const c = config(fleetNames, extra, deployment);
  const safetyNet = new RunnerFleetSafetyNet(stack, 'SafetyNet', { fleets: c.fleets, gitlab: c.gitlab, ...props });
  return { stack, safetyNet, template: Template.fromStack(stack) };
}

function policyStatements(template: Template): Array<Record<string, unknown>> {
  return Object.values(template.findResources('AWS::IAM::Policy')).flatMap(
    (p) => (p as { Properties: { PolicyDocument: { Statement: Array<Record<string, unknown>> } } }).Properties.PolicyDocument.Statement,
  );
}

describe('RunnerFleetSafetyNet', () => {
  it('routes terminate lifecycle actions and terminations of the fleet groups only', () => {
    const { template } = synth();

    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.autoscaling'],
        'detail-type': ['EC2 Instance-terminate Lifecycle Action', 'EC2 Instance Terminate Successful'],
        detail: { AutoScalingGroupName: ['gitlab-runner-fleet-alpha', 'gitlab-runner-fleet-beta'] },
      },
    });
  });

  it('routes spot interruption warnings, which cannot be filtered by group', () => {
    const { template } = synth();

    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: { source: ['aws.ec2'], 'detail-type': ['EC2 Spot Instance Interruption Warning'] },
    });
  });

  it('splits the group names of many unprefixed fleets across rules that fit the event pattern limit', () => {
    // GIVEN the most fleets a config without a deployment name may hold, with the longest names
    const names = Array.from({ length: 30 }, (_, i) => `fleet-with-a-long-name-number-${String(i).padStart(2, '0')}`);
    const { template } = synth(names);

    const rules = Object.values(template.findResources('AWS::Events::Rule')).map(
      (r) => (r as { Properties: { EventPattern: unknown } }).Properties.EventPattern,
    );
    const scoped = rules.filter((p) => JSON.stringify(p).includes('AutoScalingGroupName')) as Array<{
      detail: { AutoScalingGroupName: string[] };
    }>;
    expect(scoped.length).toBeGreaterThan(1);
    expect(scoped.flatMap((p) => p.detail.AutoScalingGroupName)).toHaveLength(30);
    for (const pattern of scoped) expect(JSON.stringify(pattern).length).toBeLessThan(2048);
  });

  it('delays delivery so the drain agent acts first, and redrives failures to a dead-letter queue', () => {
    const { template } = synth();

    template.hasResourceProperties('AWS::SQS::Queue', {
      DelaySeconds: 120,
      SqsManagedSseEnabled: true,
      RedrivePolicy: { deadLetterTargetArn: Match.anyValue(), maxReceiveCount: 5 },
    });
  });

  it('encrypts the dead-letter queue too', () => {
    const { template } = synth();

    const queues = Object.values(template.findResources('AWS::SQS::Queue')) as Array<{ Properties: Record<string, unknown> }>;
    expect(queues).toHaveLength(2);
    expect(queues.every((q) => q.Properties.SqsManagedSseEnabled === true)).toBe(true);
  });

  it('raises an alarm as soon as the dead-letter queue holds a message', () => {
    const { template } = synth();

    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Namespace: 'AWS/SQS',
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: 1,
    });
  });

  it('consumes the queue reporting batch item failures', () => {
    const { template } = synth();

    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', { FunctionResponseTypes: ['ReportBatchItemFailures'] });
  });

  it('runs on arm64 with no reserved concurrency (new accounts cannot reserve any), capped by the queue, and a log group with retention', () => {
    const { template } = synth();

    template.hasResourceProperties('AWS::Lambda::Function', {
      Architectures: ['arm64'],
      Runtime: 'nodejs24.x',
      Handler: 'index.handler',
      ReservedConcurrentExecutions: Match.absent(),
    });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', { ScalingConfig: { MaximumConcurrency: 2 } });
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
  });

  it('reserves concurrency when asked to', () => {
    const { template } = synth(['alpha'], { reservedConcurrentExecutions: 3 });

    template.hasResourceProperties('AWS::Lambda::Function', { ReservedConcurrentExecutions: 3 });
  });

  it('completes lifecycle actions only on the fleet groups, never on "*"', () => {
    const { template } = synth();

    const lifecycle = policyStatements(template).filter((s) => JSON.stringify(s.Action).includes('autoscaling:CompleteLifecycleAction'));
    expect(lifecycle).toHaveLength(1);
    const resources = JSON.stringify(lifecycle[0].Resource);
    expect(resources).toContain(':autoScalingGroup:*:autoScalingGroupName/gitlab-runner-fleet-alpha');
    expect(resources).toContain(':autoScalingGroup:*:autoScalingGroupName/gitlab-runner-fleet-beta');
    expect(lifecycle[0].Resource).not.toEqual('*');
  });

  it('scopes lifecycle calls of a named deployment by its group name prefix, with no per-fleet list', () => {
    // GIVEN 1,000 fleets of the deployment "ci"
    const names = Array.from({ length: 1000 }, (_, i) => `fleet-${i}`);
    const { template } = synth(names, {}, {}, 'ci');

    // THEN one statement reaches the groups named gitlab-runner-fleet.ci.*, with no condition listing fleets
    const [lifecycle] = policyStatements(template).filter((s) => JSON.stringify(s.Action).includes('autoscaling:CompleteLifecycleAction'));
    expect(JSON.stringify(lifecycle.Resource)).toContain(':autoScalingGroup:*:autoScalingGroupName/gitlab-runner-fleet.ci.*"');
    expect(lifecycle.Condition).toBeUndefined();
    const policies = Object.values(template.findResources('AWS::IAM::Policy'));
    expect(policies).toHaveLength(1);
    expect(JSON.stringify(policies[0]).length).toBeLessThan(2_000);
    expect(template.findResources('AWS::IAM::ManagedPolicy')).toEqual({});
  });

  it('routes the terminations of a named deployment with one prefix rule, whatever the fleet count', () => {
    const { template } = synth(
      Array.from({ length: 1000 }, (_, i) => `fleet-${i}`),
      {},
      {},
      'ci',
    );

    const scoped = Object.values(template.findResources('AWS::Events::Rule')).filter((r) =>
      JSON.stringify(r).includes('AutoScalingGroupName'),
    );
    expect(scoped).toHaveLength(1);
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: Match.objectLike({ detail: { AutoScalingGroupName: [{ prefix: 'gitlab-runner-fleet.ci.' }] } }),
    });
    const queuePolicies = Object.values(template.findResources('AWS::SQS::QueuePolicy')).map(
      (p) => (p as { Properties: { PolicyDocument: { Statement: unknown[] } } }).Properties.PolicyDocument.Statement.length,
    );
    expect(Math.max(...queuePolicies)).toBeLessThanOrEqual(4);
  });

  it('refuses more than 30 fleets without a deployment name, whose groups would have to be listed', () => {
    const fleets = config(['alpha']).fleets;
    const many = Array.from({ length: 31 }, (_, i) => ({ ...fleets[0], name: `fleet-${i}` }));
    const stack = new Stack(new App(), 'S');

    expect(() => new RunnerFleetSafetyNet(stack, 'SafetyNet', { fleets: many, gitlab: config(['alpha']).gitlab })).toThrow(
      /31 fleets without a deployment name.*config key deployment/,
    );
  });

  it('reads only the fleets runner token secrets', () => {
    const { template } = synth();

    const reads = policyStatements(template).filter((s) => s.Action === 'secretsmanager:GetSecretValue');
    const resources = JSON.stringify(reads.map((s) => s.Resource));
    expect(resources).toContain('secret:gitlab-runner-fleet/alpha/runner-token-??????');
    expect(resources).toContain('secret:gitlab-runner-fleet/beta/runner-token-??????');
    expect(resources).not.toContain('"*"');
  });

  it('puts no token and no token-shaped value in the template', () => {
    const { template } = synth();

    expect(JSON.stringify(template.toJSON())).not.toMatch(/gl(rt|pat)-[A-Za-z0-9_-]{10,}/);
  });

  it('ships a private CA bundle with the function and points Node at it', () => {
    const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
    const { template } = synth(['alpha'], {}, { caCertificate: pem });

    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: { NODE_EXTRA_CA_CERTS: '/var/task/gitlab-ca.pem' } },
    });
  });

  it('carries a reasoned checkov skip of CKV_AWS_173 on the function only when it has the CA variable', () => {
    const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
    const withCa = synth(['alpha'], {}, { caCertificate: pem }).template;
    const without = synth().template;

    withCa.hasResource('AWS::Lambda::Function', {
      Metadata: { checkov: { skip: [{ id: 'CKV_AWS_173', comment: Match.stringLikeRegexp('file path inside the package') }] } },
    });
    for (const fn of Object.values(without.findResources('AWS::Lambda::Function'))) expect(fn.Metadata?.checkov).toBeUndefined();
  });

  it('is clean under the cdk-nag AwsSolutions checks', () => {
    const { stack } = synth();

    expect(awsSolutionsFindings(stack)).toEqual([]);
  });

  it('is clean under the cdk-nag AwsSolutions checks in an environment-agnostic stack with many fleets', () => {
    const stack = new Stack(new App(), 'Agnostic');
    const c = config(
      Array.from({ length: 40 }, (_, i) => `fleet-${i}`),
      {},
      'ci',
    );
    new RunnerFleetSafetyNet(stack, 'SafetyNet', { fleets: c.fleets, gitlab: c.gitlab });

    expect(awsSolutionsFindings(stack)).toEqual([]);
  });

  it('rejects a delivery delay above the SQS limit, naming the prop', () => {
    expect(() => synth(['alpha'], { deliveryDelay: Duration.minutes(20) })).toThrow(/deliveryDelay \(1200 s\) must be at most 900 s/);
  });

  it('warns when maxReceiveCount leaves no room for the spot notice re-checks', () => {
    const { stack } = synth(['alpha'], { maxReceiveCount: 3 });

    Annotations.fromStack(stack).hasWarning('/Shared/SafetyNet', Match.stringLikeRegexp('maxReceiveCount \\(3\\) should be > 3'));
  });

  it('rejects an empty fleet list', () => {
    const c = config(['alpha']);
    const stack = new Stack(new App(), 'S');

    expect(() => new RunnerFleetSafetyNet(stack, 'SafetyNet', { fleets: [], gitlab: c.gitlab })).toThrow(
      /fleets must hold at least one fleet/,
    );
  });
});

describe('chunkGroupNames', () => {
  it('keeps every name, in order, within the budget per chunk', () => {
    const names = Array.from({ length: 30 }, (_, i) => `group-${i}`);

    const chunks = chunkGroupNames(names, 100);

    expect(chunks.flat()).toEqual(names);
    for (const chunk of chunks) expect(JSON.stringify(chunk).length).toBeLessThanOrEqual(101);
  });
});
