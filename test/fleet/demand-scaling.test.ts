import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { FleetDemandScaling } from '../../lib/fleet/demand-scaling';
import { addFleetStacks } from '../../lib/stacks/fleet-app';
import { DEFAULT_DEMAND_SETTINGS } from '../../lib/config';
import { rawFleet, TEST_GITLAB, testConfig } from '../support/stack-helpers';
import { Stack } from 'aws-cdk-lib';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { HANDLER_CONFIG_FILE, parseHandlerConfig } from '../../lib/lambda/shared/handler-config';

function sharedTemplate(fleets = [rawFleet({ name: 'spot-a', demandScaling: {} }), rawFleet({ name: 'plain-b' })], extra = {}) {
  const app = new App({ builtinCloudFormationValidation: false });
  const stacks = addFleetStacks(app, testConfig(fleets, extra));
  return { template: Template.fromStack(stacks.shared), shared: stacks.shared, app };
}

describe('FleetDemandScaling', () => {
  it('exposes the webhook as a function URL without IAM auth (GitLab cannot sign) and outputs it', () => {
    const { template } = sharedTemplate();
    template.hasResourceProperties('AWS::Lambda::Url', { AuthType: 'NONE' });
    template.hasOutput('*', { Description: Match.stringLikeRegexp('GitLab job-events webhook'), Value: Match.anyValue() });
  });

  it('lets the webhook read only its token secret and send to the demand queue', () => {
    const { template } = sharedTemplate();
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Sid: 'ReadWebhookToken',
            Action: 'secretsmanager:GetSecretValue',
            Resource: { 'Fn::Join': ['', Match.arrayWith([':secret:gitlab-runner-fleet/webhook-token-??????'])] },
          }),
        ]),
      },
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: Match.arrayWith(['sqs:SendMessage']),
            Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('^DemandScalingQueue'), 'Arn'] },
          }),
        ]),
      },
    });
  });

  it('scopes the scaler to the demand-scaled fleet groups only', () => {
    const { template } = sharedTemplate();
    const policies = template.findResources('AWS::IAM::Policy', {
      Properties: { PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Sid: 'ScaleDemandFleets' })]) } },
    });
    const statement = Object.values(policies)[0].Properties.PolicyDocument.Statement.find(
      (s: { Sid: string }) => s.Sid === 'ScaleDemandFleets',
    );
    expect(statement.Action).toEqual(['autoscaling:SetDesiredCapacity', 'autoscaling:TerminateInstanceInAutoScalingGroup']);
    const resources = JSON.stringify(statement.Resource);
    expect(resources).toContain('autoScalingGroupName/gitlab-runner-fleet-spot-a');
    expect(resources).not.toContain('plain-b');
  });

  it('feeds the scaler from the queue in batches, with partial batch failures', () => {
    const { template } = sharedTemplate();
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: 100,
      MaximumBatchingWindowInSeconds: 2,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: 2 },
    });
  });

  it('ticks the scaler on a rate schedule (not on a round-minute cron)', () => {
    const { template } = sharedTemplate();
    template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(1 minute)' });
  });

  it('takes the tick interval from the config', () => {
    const { template } = sharedTemplate(undefined, { demand: { scalerIntervalMinutes: 3 } });
    template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(3 minutes)' });
  });

  it('alarms on the demand dead-letter queue', () => {
    const { template } = sharedTemplate();
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmDescription: Match.stringLikeRegexp('demand scaler: job signals'),
      MetricName: 'ApproximateNumberOfMessagesVisible',
    });
  });

  it('is absent when no fleet has demand scaling', () => {
    const { shared } = sharedTemplate([rawFleet({ name: 'plain-b' })]);
    expect(shared.demandScaling).toBeUndefined();
    Template.fromStack(shared).resourceCountIs('AWS::Lambda::Url', 0);
  });

  it('is clean under cdk-nag AwsSolutions', () => {
    const { app } = sharedTemplate();
    const report = new AwsSolutionsChecks().validateScope(app);
    expect(report.violations.flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} ${r.constructPath}`))).toEqual([]);
  });

  it('refuses a fleet list without a demand-scaled fleet, naming the prop', () => {
    const stack = new Stack(new App());
    expect(
      () => new FleetDemandScaling(stack, 'D', { fleets: testConfig().fleets, gitlab: TEST_GITLAB, settings: DEFAULT_DEMAND_SETTINGS }),
    ).toThrow(/fleets must hold at least one fleet with demandScaling/);
  });

  it('refuses a tick interval outside 1-15 minutes', () => {
    const stack = new Stack(new App());
    const fleets = testConfig([rawFleet({ demandScaling: {} })]).fleets;
    expect(
      () =>
        new FleetDemandScaling(stack, 'D', {
          fleets,
          gitlab: TEST_GITLAB,
          settings: { ...DEFAULT_DEMAND_SETTINGS, scalerIntervalMinutes: 30 },
        }),
    ).toThrow(/scalerIntervalMinutes \(30\)/);
  });
});

describe('FleetDemandScaling handler configuration', () => {
  function scalerHandlerConfig(extra: Record<string, unknown>) {
    const { app, template } = sharedTemplate(undefined, extra);
    const assembly = app.synth();
    const scaler = Object.values(template.findResources('AWS::Lambda::Function')).find((fn) =>
      String((fn as { Properties: { Description?: string } }).Properties.Description).includes('scales demand-scaled fleets'),
    ) as { Properties: { Code: { S3Key: string } } };
    const assetDir = join(assembly.directory, `asset.${scaler.Properties.Code.S3Key.replace(/\.zip$/, '')}`);
    return parseHandlerConfig(readFileSync(join(assetDir, HANDLER_CONFIG_FILE), 'utf8')).demand;
  }

  it('given demand.poll, when synthesized, then the scaler is configured to poll with it (token secret, projects, onTick)', () => {
    const demand = scalerHandlerConfig({ demand: { poll: { apiTokenSecretName: 'ci/poll-token', projectIds: [7], onTick: false } } });

    expect(demand?.poll).toEqual({ apiTokenSecretName: 'ci/poll-token', projectIds: [7], onTick: false });
  });

  it('given demand.poll without onTick, when synthesized, then the scaler polls on every tick (the default)', () => {
    const demand = scalerHandlerConfig({ demand: { poll: { apiTokenSecretName: 'ci/poll-token' } } });

    expect(demand?.poll).toEqual({ apiTokenSecretName: 'ci/poll-token', projectIds: [], onTick: true });
  });

  it('given no demand.poll, when synthesized, then the scaler has no poll', () => {
    expect(scalerHandlerConfig({})).not.toHaveProperty('poll');
  });
});
