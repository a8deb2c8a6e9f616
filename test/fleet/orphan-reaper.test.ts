import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { parseFleetConfig, type FleetConfig } from '../../lib/config';
import { OrphanReaper, orphanReaperSchedule } from '../../lib/fleet/orphan-reaper';
import { awsSolutionsFindings } from './nag';

function config(orphanReaper: Record<string, unknown> = { enabled: true }): FleetConfig {
  return parseFleetConfig({
    gitlab: { url: 'https://gitlab.example.com' },
    orphanReaper,
    fleets: ['alpha', 'beta'].map((name) => ({ name, computeType: 'spot', instanceTypes: ['m7g.large'], capacity: { max: 2 } })),
  });
}

let defaultSynth: ReturnType<typeof build> | undefined;

/** The default stack is built once and shared by the tests that only read it. */
function synth(...args: Parameters<typeof build>): ReturnType<typeof build> {
  if (args.length > 0) return build(...args);
  defaultSynth ??= build();
  return defaultSynth;
}

function build(c: FleetConfig = config(), env?: { account: string; region: string }) {
  const stack = new Stack(new App(), 'Shared', { env });
  const reaper = new OrphanReaper(stack, 'OrphanReaper', { fleets: c.fleets, gitlab: c.gitlab, settings: c.orphanReaper });
  return { stack, reaper, template: Template.fromStack(stack) };
}

function policyStatements(template: Template): Array<Record<string, unknown>> {
  return Object.values(template.findResources('AWS::IAM::Policy')).flatMap(
    (p) => (p as { Properties: { PolicyDocument: { Statement: Array<Record<string, unknown>> } } }).Properties.PolicyDocument.Statement,
  );
}

describe('OrphanReaper', () => {
  it('runs on a schedule that is not at minute 0', () => {
    const { template, reaper } = synth();

    const rules = Object.values(template.findResources('AWS::Events::Rule')) as Array<{
      Properties: { ScheduleExpression: string; State: string };
    }>;
    expect(rules).toHaveLength(1);
    expect(rules[0].Properties.ScheduleExpression).toBe(reaper.schedule.expression);
    expect(rules[0].Properties.ScheduleExpression).toMatch(/^cron\(([1-9]|[1-5]\d) \* \* \* \? \*\)$/);
    expect(rules[0].Properties.State).toBe('ENABLED');
  });

  it('creates the schedule disabled when the reaper is not enabled', () => {
    const { template } = synth(config({ enabled: false }));

    template.hasResourceProperties('AWS::Events::Rule', { State: 'DISABLED' });
  });

  it('reads the fleet runner tokens and the API token, and nothing else', () => {
    const { template } = synth();

    const reads = policyStatements(template).filter((s) => s.Action === 'secretsmanager:GetSecretValue');
    const resources = JSON.stringify(reads.map((s) => s.Resource));
    expect(resources).toContain('secret:gitlab-runner-fleet/alpha/runner-token-??????');
    expect(resources).toContain('secret:gitlab-runner-fleet/beta/runner-token-??????');
    expect(resources).toContain('secret:gitlab-runner-fleet/api-token-??????');
    expect(resources).not.toContain('"*"');
  });

  it("reads a mixed fleet's on-demand runner token too, so its on-demand managers are surveyed", () => {
    const mixed = parseFleetConfig({
      gitlab: { url: 'https://gitlab.example.com' },
      orphanReaper: { enabled: true },
      fleets: [
        {
          name: 'mixed',
          computeType: 'spot',
          onDemandBase: 1,
          onDemandRunnerTokenSecretName: 'team/mixed/ondemand',
          instanceTypes: ['m7g.large'],
          capacity: { max: 2 },
        },
      ],
    });

    const { template } = synth(mixed);

    const reads = policyStatements(template).filter((s) => s.Action === 'secretsmanager:GetSecretValue');
    const resources = JSON.stringify(reads.map((s) => s.Resource));
    expect(resources).toContain('secret:gitlab-runner-fleet/mixed/runner-token-??????');
    expect(resources).toContain('secret:team/mixed/ondemand-??????');
  });

  it('may not complete or change lifecycle actions, only describe', () => {
    const { template } = synth();

    const actions = policyStatements(template).flatMap((s) => [s.Action].flat() as string[]);
    expect(actions.filter((a) => a.startsWith('autoscaling:'))).toEqual(['autoscaling:DescribeAutoScalingGroups']);
  });

  it('passes the grace period and API token secret name to the handler, not any token', () => {
    const { template } = synth();

    expect(JSON.stringify(template.toJSON())).not.toMatch(/gl(rt|pat)-[A-Za-z0-9_-]{10,}/);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Timeout: 300,
      ReservedConcurrentExecutions: Match.absent(),
      Architectures: ['arm64'],
    });
  });

  it('raises an alarm when a run fails', () => {
    const { template } = synth();

    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'Errors', Namespace: 'AWS/Lambda', Threshold: 1 });
  });

  it('is clean under the cdk-nag AwsSolutions checks, with and without an environment', () => {
    expect(awsSolutionsFindings(synth().stack)).toEqual([]);
    expect(awsSolutionsFindings(synth(config(), { account: '123456789012', region: 'eu-central-1' }).stack)).toEqual([]);
  });

  it('rejects settings without an API token secret, naming the field', () => {
    const c = config();
    const stack = new Stack(new App(), 'S');

    expect(
      () => new OrphanReaper(stack, 'R', { fleets: c.fleets, gitlab: c.gitlab, settings: { ...c.orphanReaper, apiTokenSecretName: '' } }),
    ).toThrow(/settings\.apiTokenSecretName/);
  });
});

describe('orphanReaperSchedule', () => {
  it.each([15, 20, 30])('runs every %i minutes at an offset that never hits :00', (interval) => {
    for (const seed of ['a', 'b', 'c', 'orphan-reaper:graviton-spot,graviton-ondemand']) {
      const schedule = orphanReaperSchedule(interval, seed);
      expect(schedule.minute).toBeGreaterThanOrEqual(1);
      expect(schedule.minute).toBeLessThan(interval);
      expect(schedule.expression).toBe(`cron(${schedule.minute}/${interval} * * * ? *)`);
    }
  });

  it('runs hourly at a minute from 1 to 59', () => {
    const schedule = orphanReaperSchedule(60, 'seed');

    expect(schedule.expression).toMatch(/^cron\(([1-9]|[1-5]\d) \* \* \* \? \*\)$/);
  });

  it('runs every few hours at an offset minute and hour', () => {
    expect(orphanReaperSchedule(360, 'seed').expression).toMatch(/^cron\(([1-9]|[1-5]\d) [0-5]\/6 \* \* \? \*\)$/);
  });

  it('uses a rate for intervals cron cannot phase', () => {
    expect(orphanReaperSchedule(45, 'seed').expression).toBe('rate(45 minutes)');
  });

  it('is stable for the same seed and differs between seeds', () => {
    expect(orphanReaperSchedule(60, 'x')).toEqual(orphanReaperSchedule(60, 'x'));
    const minutes = new Set(['a', 'b', 'c', 'd', 'e', 'f'].map((s) => orphanReaperSchedule(60, s).minute));
    expect(minutes.size).toBeGreaterThan(1);
  });
});
