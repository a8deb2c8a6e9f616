import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { parseFleetConfig } from '../../lib/config';
import { SharedStack } from '../../lib/stacks/shared-stack';
import { FLEETS_PER_DASHBOARD } from '../../lib/fleet/fleet-monitoring';
import { generatedConfig } from '../../scripts/ci/quota-gate';
import { exceeds, measureAccount, measureTemplate, policySize, QUOTAS, resolveForSize, type TemplateShape } from '../../scripts/ci/quotas';

const statement = (i: number) => ({
  Sid: `S${i}`,
  Effect: 'Allow',
  Action: 'secretsmanager:GetSecretValue',
  Resource: {
    'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:secretsmanager:eu-central-1:123456789012:secret:team/fleet-${i}-??????`]],
  },
});

const over = (template: TemplateShape) =>
  measureTemplate('S', template, JSON.stringify(template).length)
    .filter(exceeds)
    .map((m) => `${m.quota.id} ${m.subject}`);

describe('quota checker', () => {
  it('fails a deliberately oversized managed policy, naming the policy and the IAM limit', () => {
    // GIVEN a managed policy of 100 listed secret ARNs (about 11,000 characters)
    const template: TemplateShape = {
      Resources: {
        Big: {
          Type: 'AWS::IAM::ManagedPolicy',
          Properties: { PolicyDocument: { Statement: Array.from({ length: 100 }, (_, i) => statement(i)) } },
        },
      },
    };

    // THEN it is over IAM's 6,144 characters
    expect(over(template)).toEqual(['iam-managed-policy S/Big']);
    expect(QUOTAS.managedPolicy.source).toMatch(/^https:\/\/docs\.aws\.amazon\.com\/IAM\//);
  });

  it("adds up every inline policy attached to one role against the role's 10,240 characters", () => {
    const half = { Statement: Array.from({ length: 40 }, (_, i) => statement(i)) };
    const template: TemplateShape = {
      Resources: {
        Role: { Type: 'AWS::IAM::Role', Properties: { AssumeRolePolicyDocument: { Statement: [] } } },
        A: { Type: 'AWS::IAM::Policy', Properties: { Roles: [{ Ref: 'Role' }], PolicyDocument: half } },
        B: { Type: 'AWS::IAM::Policy', Properties: { Roles: [{ Ref: 'Role' }], PolicyDocument: half } },
      },
    };

    expect(policySize(half)).toBeLessThan(10_240);
    expect(over(template)).toEqual(['iam-role-inline S/Role']);
  });

  it('fails a queue policy of 21 statements, one more than SQS allows', () => {
    const template: TemplateShape = {
      Resources: {
        Policy: {
          Type: 'AWS::SQS::QueuePolicy',
          Properties: {
            Queues: [{ Ref: 'Queue' }],
            PolicyDocument: { Statement: Array.from({ length: 21 }, (_, i) => ({ Sid: `S${i}` })) },
          },
        },
      },
    };

    expect(over(template)).toEqual(['sqs-statements S/Queue']);
  });

  it('fails an event pattern over 2,048 characters and an environment over 4 KB', () => {
    const template: TemplateShape = {
      Resources: {
        Rule: {
          Type: 'AWS::Events::Rule',
          Properties: { EventPattern: { detail: { name: Array.from({ length: 200 }, (_, i) => `group-${i}`) } } },
        },
        Fn: { Type: 'AWS::Lambda::Function', Properties: { Environment: { Variables: { BIG: 'x'.repeat(4097) } } } },
      },
    };

    expect(over(template).sort()).toEqual(['events-pattern S/Rule', 'lambda-environment S/Fn']);
  });

  it('measures references at their longest: partition, region and resource ARNs', () => {
    const resolved = resolveForSize({
      'Fn::Join': [':', [{ Ref: 'AWS::Partition' }, { Ref: 'AWS::Region' }, { 'Fn::GetAtt': ['Queue', 'Arn'] }]],
    });

    expect(resolved).toMatch(/^aws-us-gov:ap-southeast-5:r{160}$/);
  });

  it('counts account-wide groups and roles against their default quotas, which AWS raises on request', () => {
    const fleet: TemplateShape = {
      Resources: {
        G: { Type: 'AWS::AutoScaling::AutoScalingGroup' },
        R: { Type: 'AWS::IAM::Role' },
        P: { Type: 'AWS::IAM::InstanceProfile' },
      },
    };

    const account = measureAccount(Array<TemplateShape>(501).fill(fleet));
    expect(account.filter(exceeds).map((m) => m.quota.id)).toEqual(['account-autoscaling-groups']);
    expect(account.every((m) => m.quota.adjustableAccountQuota)).toBe(true);
  });

  it('passes the shared stack of a 1,000-fleet deployment: its policies, rules and queue policies do not grow with the fleets', () => {
    const sizes = (fleets: number) => {
      const config = parseFleetConfig(generatedConfig(fleets));
      const stack = new SharedStack(new App(), 'Shared', { config });
      const template = Template.fromStack(stack).toJSON() as TemplateShape;
      return measureTemplate('Shared', template, JSON.stringify(template).length);
    };

    const thousand = sizes(1000);
    expect(thousand.filter(exceeds)).toEqual([]);
    const policyOf = (ms: typeof thousand, id: string) => ms.filter((m) => m.quota.id === id).map((m) => m.value);
    const one = sizes(1);
    // The fleet names in the deployment-scoped stack appear nowhere in its policies, patterns or queue policies.
    for (const id of ['iam-role-inline', 'sqs-statements', 'events-pattern']) expect(policyOf(thousand, id)).toEqual(policyOf(one, id));
  }, 300_000);

  it('fails a dashboard of 501 widgets and one of 2,501 metrics, naming the CloudWatch quota', () => {
    const widget = (metrics: number) => ({
      type: 'metric',
      properties: { region: 'REGION', metrics: Array.from({ length: metrics }, (_, i) => ['NS', `M${i}`]) },
    });
    // As the CDK writes it: the body joined around the region reference.
    const dashboard = (widgets: object[]) => ({
      Type: 'AWS::CloudWatch::Dashboard',
      Properties: {
        DashboardBody: {
          'Fn::Join': [
            '',
            JSON.stringify({ widgets })
              .split('REGION')
              .flatMap((part, i) => (i === 0 ? [part] : [{ Ref: 'AWS::Region' }, part])),
          ],
        },
      },
    });
    const manyWidgets = { Resources: { D: dashboard(Array.from({ length: 501 }, () => widget(1))) } };
    const manyMetrics = { Resources: { D: dashboard(Array.from({ length: 6 }, () => widget(420))) } };

    expect(over(manyWidgets)).toEqual(['cw-dashboard-widgets S/D']);
    expect(over(manyMetrics)).toEqual(['cw-dashboard-metrics S/D']);
    expect(QUOTAS.dashboardMetrics.source).toMatch(/cloudwatch_limits\.html$/);
  });

  it('keeps the largest dashboard (FLEETS_PER_DASHBOARD fleets) under CloudWatch widget and metric quotas and far inside its template', () => {
    const config = parseFleetConfig(generatedConfig(FLEETS_PER_DASHBOARD));
    const stack = new SharedStack(new App(), 'Shared', { config });
    const template = Template.fromStack(stack).toJSON() as TemplateShape;
    const measured = measureTemplate('Shared', template, JSON.stringify(template).length);
    const value = (id: string) => measured.find((m) => m.quota.id === id)!.value;
    const [dashboard] = Object.values(Template.fromStack(stack).findResources('AWS::CloudWatch::Dashboard'));
    const bodyBytes = JSON.stringify(resolveForSize(dashboard.Properties.DashboardBody)).length;

    expect(measured.filter(exceeds)).toEqual([]);
    expect(value('cw-dashboard-widgets')).toBe(1 + 6 * FLEETS_PER_DASHBOARD);
    expect(value('cw-dashboard-metrics')).toBe(22 * FLEETS_PER_DASHBOARD);
    expect(value('cw-dashboard-metrics')).toBeLessThanOrEqual(QUOTAS.dashboardMetrics.limit);
    // The body travels in a fleet stack's template (1 MB with everything else in it): keep it under half of that.
    expect(bodyBytes).toBeLessThan(QUOTAS.templateBytes.limit / 2);
  }, 120_000);
});
