/**
 * Template assertions for the scheduled token rotation (config `gitlabRunner.rotation`): off
 * unless configured, a schedule in the rotation's time zone at the fleet's own minute, a
 * workflow whose Lambda may touch only the fleet's own secrets and group, a failure alarm on
 * the deployment's alarm topic, everything in the fleet stack, cdk-nag clean.
 */
import { App, Duration, Stack } from 'aws-cdk-lib';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { addFleetStacks } from '../../lib/stacks/fleet-app';
import { ScheduledTokenRotation } from '../../lib/fleet/token-rotation';
import { rotationTarget } from '../../lib/rotation/rotation-target';
import { rotationCronExpression } from '../../lib/config/token-rotation';
import { autoScalingGroupName } from '../../lib/identity/runner-identity';
import { awsSolutionsFindings } from './nag';
import { buildFleet, fleetSpec, rawFleet, resourcesOfType, TEST_ENV, TEST_GITLAB, testConfig } from '../support/stack-helpers';

const ACCESS = 'gitlab-runner-fleet/access-token';
const runner = (rotation?: Record<string, unknown>) => ({
  scope: 'group',
  group: 'my-org/platform',
  accessTokenSecretName: ACCESS,
  ...(rotation ? { rotation } : {}),
});

type Statement = { Sid?: string; Effect: string; Action: string | string[]; Resource: unknown; Condition?: unknown };

function rotationStatements(template: Template): Statement[] {
  return Object.entries(resourcesOfType(template, 'AWS::IAM::Policy')).flatMap(([id, policy]) =>
    id.includes('TokenRotationHandler') ? (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement : [],
  );
}

describe('scheduled token rotation', () => {
  it('is not deployed unless gitlabRunner.rotation is set', () => {
    const { template } = buildFleet({ gitlabRunner: runner() });

    template.resourceCountIs('AWS::Scheduler::Schedule', 0);
    template.resourceCountIs('AWS::StepFunctions::StateMachine', 0);
  });

  it('starts the workflow on the fleet slot, in the fleet schedule time zone, never on :00', () => {
    const overrides = {
      gitlabRunner: runner({}),
      schedule: { timeZone: 'Europe/Berlin', windows: [{ days: 'mon-fri', start: '07:00', end: '19:00', desired: 2 }] },
    };
    const rotation = fleetSpec(overrides).managedRunner!.rotation!;
    const { template } = buildFleet(overrides);

    template.resourceCountIs('AWS::Scheduler::Schedule', 1);
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: rotationCronExpression(rotation.slot, 3),
      ScheduleExpressionTimezone: 'Europe/Berlin',
      State: 'ENABLED',
      FlexibleTimeWindow: { Mode: 'OFF' },
      Target: Match.objectLike({ Arn: { Ref: Match.stringLikeRegexp('TokenRotationWorkflow') } }),
    });
    const expression = Object.values(resourcesOfType(template, 'AWS::Scheduler::Schedule'))[0].Properties.ScheduleExpression as string;
    expect(expression).toMatch(/^cron\(([1-9]|[1-5]\d) [1-4] ([1-9]|1\d|2[0-8]) [1-3]\/3 \? \*\)$/);
  });

  it('creates the schedule disabled with enabled: false, and in its own time zone when given', () => {
    const { template } = buildFleet({ gitlabRunner: runner({ enabled: false, timeZone: 'America/New_York', everyMonths: 12 }) });

    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      State: 'DISABLED',
      ScheduleExpressionTimezone: 'America/New_York',
      ScheduleExpression: Match.stringLikeRegexp('^cron\\(\\d+ \\d+ \\d+ \\d+/12 \\? \\*\\)$'),
    });
  });

  it('gives two fleets of one config different start instants', () => {
    const app = new App();
    const config = testConfig([
      rawFleet({ name: 'alpha', gitlabRunner: runner({}) }),
      rawFleet({ name: 'beta', gitlabRunner: runner({}) }),
    ]);
    const stacks = addFleetStacks(app, config);

    const expressions = stacks.fleets.map(
      (stack) => Object.values(resourcesOfType(Template.fromStack(stack), 'AWS::Scheduler::Schedule'))[0].Properties.ScheduleExpression,
    );
    expect(new Set(expressions).size).toBe(2);
  });

  it('runs a standard workflow: start, then wait 5 minutes and check until done or failed, with a deadline', () => {
    const { template } = buildFleet({ gitlabRunner: runner({}), maxJobTimeoutMinutes: 60, minHealthyPercentage: 50 });

    const machine = Object.values(resourcesOfType(template, 'AWS::StepFunctions::StateMachine'))[0];
    expect(machine.Properties.StateMachineType).toBe('STANDARD');
    expect(machine.Properties.LoggingConfiguration).toMatchObject({ Level: 'ALL' });
    template.hasResourceProperties('AWS::Logs::LogGroup', {
      LogGroupName: '/aws/vendedlogs/states/gitlab-runner-fleet-test-fleet-token-rotation',
      RetentionInDays: 90,
    });
    const definition = JSON.parse(
      (machine.Properties.DefinitionString as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1]
        .map((part) => (typeof part === 'string' ? part : 'FN'))
        .join(''),
    ) as { StartAt: string; TimeoutSeconds: number; States: Record<string, Record<string, unknown>> };
    expect(definition.StartAt).toBe('Start');
    expect(definition.States.Start.Parameters).toEqual({ action: 'start' });
    expect(definition.States.Start.Retry).toBeUndefined();
    expect(definition.States.Check.Retry).toEqual(
      expect.arrayContaining([expect.objectContaining({ ErrorEquals: ['States.ALL'], MaxAttempts: 5 })]),
    );
    expect(definition.States.WaitForRoll).toMatchObject({ Seconds: 300, Next: 'Check' });
    expect(definition.States.Check.Parameters).toEqual({ action: 'check', 'rotation.$': '$.rotation' });
    expect(definition.States.Finished.Default).toBe('WaitForRoll');
    // Two batches at 50% healthy, each up to the job timeout plus margin, then an hour; plus an hour of slack.
    expect(definition.TimeoutSeconds).toBe((2 * 75 + 60 + 60) * 60);
  });

  it("lets the rotation Lambda read and write only the fleet's own token secrets, read the access token and roll only its group", () => {
    const { template } = buildFleet({ gitlabRunner: runner({}), onDemandBase: 1 });

    const statements = rotationStatements(template);
    const tokens = statements.find((s) => s.Sid === 'RotateOwnRunnerTokens')!;
    expect(tokens.Action).toEqual(['secretsmanager:GetSecretValue', 'secretsmanager:PutSecretValue']);
    expect(tokens.Resource).toEqual([
      { Ref: expect.stringMatching(/^FleetGitLabRunnersSpotToken/) },
      { Ref: expect.stringMatching(/^FleetGitLabRunnersOnDemandToken/) },
    ]);
    expect(JSON.stringify(statements.find((s) => s.Sid === 'ReadGitLabAccessToken')!.Resource)).toContain(`secret:${ACCESS}-??????`);
    expect(JSON.stringify(statements.find((s) => s.Sid === 'RollOwnGroup'))).toContain('"autoscaling:StartInstanceRefresh"');
    expect(JSON.stringify(statements.find((s) => s.Sid === 'RollOwnGroup')!.Resource)).toMatch(
      /autoScalingGroup:\*:autoScalingGroupName\/gitlab-runner-fleet-test-fleet"/,
    );
    const wildcard = statements.filter((s) => s.Resource === '*');
    expect(wildcard.map((s) => s.Action)).toEqual(['autoscaling:DescribeInstanceRefreshes']);
    const actions = statements.flatMap((s) => [s.Action].flat());
    expect(actions.filter((a) => !a.startsWith('logs:')).sort()).toEqual([
      'autoscaling:DescribeInstanceRefreshes',
      'autoscaling:StartInstanceRefresh',
      'secretsmanager:GetSecretValue',
      'secretsmanager:GetSecretValue',
      'secretsmanager:PutSecretValue',
    ]);
  });

  it('rolls only the deployment-named group in a named deployment, not every group of the deployment', () => {
    const app = new App();
    const config = testConfig([rawFleet({ name: 'alpha', gitlabRunner: runner({}) })], { deployment: 'ci' });
    const [stack] = addFleetStacks(app, config).fleets;

    const roll = rotationStatements(Template.fromStack(stack)).find((s) => s.Sid === 'RollOwnGroup')!;
    expect(JSON.stringify(roll.Resource)).toContain(`:autoScalingGroup:*:autoScalingGroupName/${autoScalingGroupName('alpha', 'ci')}"`);
    expect(autoScalingGroupName('alpha', 'ci')).not.toContain('*');
  });

  it('lets the rotation Lambda past the token secrets resource policy, which denies everyone else', () => {
    const { template } = buildFleet({ gitlabRunner: runner({}) });

    const policy = Object.values(resourcesOfType(template, 'AWS::SecretsManager::ResourcePolicy'))[0];
    const deny = JSON.stringify(policy.Properties.ResourcePolicy);
    expect(deny).toMatch(/TokenRotationHandlerRole/);
    expect(deny).toMatch(/GitLabRunnersHandlerRole/);
  });

  it('alarms on failed, timed-out and aborted rotations, to the alarm topic of the deployment', () => {
    const app = new App();
    const config = testConfig([rawFleet({ name: 'alpha', gitlabRunner: runner({}) })], {
      monitoring: { alarmTopicArn: 'arn:aws:sns:eu-central-1:123456789012:fleet-alarms' },
    });
    const [stack] = addFleetStacks(app, config).fleets;
    const template = Template.fromStack(stack);

    const alarm = Object.entries(resourcesOfType(template, 'AWS::CloudWatch::Alarm')).find(([id]) =>
      id.includes('TokenRotationFailureAlarm'),
    );
    expect(alarm).toBeDefined();
    const properties = alarm![1].Properties;
    expect(JSON.stringify(properties.AlarmActions)).toContain('fleet-alarms');
    const metrics = properties.Metrics as Array<{ MetricStat?: { Metric: { MetricName: string } } }>;
    expect(metrics.map((m) => m.MetricStat?.Metric.MetricName).filter(Boolean)).toEqual([
      'ExecutionsFailed',
      'ExecutionsTimedOut',
      'ExecutionsAborted',
    ]);
    expect(JSON.stringify(properties.Metrics)).toContain('FILL(failed, 0) + FILL(timedOut, 0) + FILL(aborted, 0)');
    expect(properties).toMatchObject({
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
    });
  });

  it('adds nothing to the shared stack, however many fleets rotate', () => {
    const app = new App();
    const fleets = Array.from({ length: 3 }, (_, i) => rawFleet({ name: `fleet-${i}`, gitlabRunner: runner({}) }));
    const { shared } = addFleetStacks(app, testConfig(fleets));
    const template = Template.fromStack(shared);

    template.resourceCountIs('AWS::Scheduler::Schedule', 0);
    template.resourceCountIs('AWS::StepFunctions::StateMachine', 0);
  });

  it('is cdk-nag clean, each acknowledgement with a reason', () => {
    const { fleet } = buildFleet({ gitlabRunner: runner({}), onDemandBase: 1 });

    expect(awsSolutionsFindings(fleet)).toEqual([]);
  });
});

describe('ScheduledTokenRotation on its own', () => {
  const spec = fleetSpec({ gitlabRunner: runner({}) });
  const rotation = spec.managedRunner!.rotation!;
  const build = (props: Partial<ConstructorParameters<typeof ScheduledTokenRotation>[2]> = {}) => {
    const stack = new Stack(new App(), 'RotationStack', { env: TEST_ENV });
    const secret = new secretsmanager.Secret(stack, 'Token');
    const construct = new ScheduledTokenRotation(stack, 'Rotation', {
      fleet: spec,
      rotation,
      gitlab: TEST_GITLAB,
      tokenSecrets: [secret],
      ...props,
    });
    return { construct, template: Template.fromStack(stack) };
  };

  it('takes a poll interval and a timeout instead of the defaults', () => {
    const { template } = build({ pollInterval: Duration.minutes(2), timeout: Duration.hours(3) });

    const machine = Object.values(resourcesOfType(template, 'AWS::StepFunctions::StateMachine'))[0];
    const text = JSON.stringify(machine.Properties.DefinitionString);
    expect(text).toContain('\\"Seconds\\":120');
    expect(text).toContain(`\\"TimeoutSeconds\\":${(180 + 60) * 60}`);
  });

  it('names the prop at fault', () => {
    const plain = fleetSpec();
    expect(() => build({ fleet: plain })).toThrow('ScheduledTokenRotation: fleet test-fleet has no managedRunner settings');
    expect(() => build({ tokenSecrets: [] })).toThrow('tokenSecrets must hold the fleet token secret(s)');
    expect(() => build({ pollInterval: Duration.seconds(30) })).toThrow('pollInterval (30 seconds) must be >= 1 minute');
  });

  it('exposes its schedule expression and time zone', () => {
    const { construct } = build();

    expect(construct.expression).toBe(rotationCronExpression(rotation.slot, rotation.everyMonths));
    expect(construct.timeZone).toBe('UTC');
  });
});

describe('rotation target', () => {
  it('leaves out the namespace of an instance runner and keeps the deployment group name', () => {
    const target = rotationTarget(
      testConfig([rawFleet({ gitlabRunner: { scope: 'instance', accessTokenSecretName: ACCESS } })], { deployment: 'ci' }).fleets[0],
    );

    expect(target).not.toHaveProperty('namespace');
    expect(target.runnerType).toBe('instance_type');
    expect(target.autoScalingGroupName).toBe(autoScalingGroupName('test-fleet', 'ci'));
  });

  it('refuses a fleet that does not own its runner', () => {
    expect(() => rotationTarget(fleetSpec())).toThrow('fleet test-fleet does not own its GitLab runner');
  });
});

describe('scheduled token rotation: a start that never happened', () => {
  it('sends an undeliverable start to a dead-letter queue and alarms on it, to the alarm topic', () => {
    const app = new App();
    const config = testConfig([rawFleet({ name: 'alpha', gitlabRunner: runner({}) })], {
      monitoring: { alarmTopicArn: 'arn:aws:sns:eu-central-1:123456789012:fleet-alarms' },
    });
    const [stack] = addFleetStacks(app, config).fleets;
    const template = Template.fromStack(stack);

    const queueId = Object.keys(resourcesOfType(template, 'AWS::SQS::Queue')).find((id) => id.includes('ScheduleDeadLetters'))!;
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      Target: Match.objectLike({ DeadLetterConfig: { Arn: { 'Fn::GetAtt': [queueId, 'Arn'] } } }),
    });
    template.hasResourceProperties('AWS::SQS::Queue', { SqsManagedSseEnabled: true });
    const alarm = Object.entries(resourcesOfType(template, 'AWS::CloudWatch::Alarm')).find(([id]) =>
      id.includes('TokenRotationScheduleAlarm'),
    )!;
    expect(alarm[1].Properties).toMatchObject({
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queueId, 'QueueName'] } }],
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
    });
    expect(JSON.stringify(alarm[1].Properties.AlarmActions)).toContain('fleet-alarms');
  });
});
