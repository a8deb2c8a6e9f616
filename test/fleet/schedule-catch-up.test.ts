/**
 * The schedule catch-up in the templates: one custom resource per fleet whose schedule changes
 * capacity, in the fleet's stack, reaching the one function of the shared stack by name; its
 * properties carry what the capacity depends on and nothing else; the function may resize the
 * deployment's scheduled groups only.
 */
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { SCHEDULE_CATCH_UP_RESOURCE_TYPE } from '../../lib/lambda/schedule-catch-up/core';
import { addFleetStacks } from '../../lib/stacks/fleet-app';
import { buildFleet, rawFleet, resourcesOfType, testConfig } from '../support/stack-helpers';

const CATCH_UP = SCHEDULE_CATCH_UP_RESOURCE_TYPE;
const ACTION = 'AWS::AutoScaling::ScheduledAction';
const TOKEN = 'arn:aws:lambda:eu-central-1:123456789012:function:gitlab-runner-fleet-schedule-catch-up';
const OFFICE_HOURS = { timeZone: 'Europe/Berlin', maxJitterMinutes: 0, windows: [{ days: 'mon-fri', start: '08:00', end: '18:00' }] };
const OFFICE = { schedule: OFFICE_HOURS, capacity: { min: 0, max: 4, desired: 2 } };

function catchUps(raw: Record<string, unknown>, props: { scheduleCatchUpServiceToken?: string } = { scheduleCatchUpServiceToken: TOKEN }) {
  return Object.values(resourcesOfType(buildFleet(raw, props).template, CATCH_UP));
}

function apps(fleets: Record<string, unknown>[], extra: Record<string, unknown> = {}) {
  const app = new App({ builtinCloudFormationValidation: false });
  const stacks = addFleetStacks(app, testConfig(fleets, extra));
  return { app, shared: Template.fromStack(stacks.shared), fleets: stacks.fleets.map((s) => Template.fromStack(s)) };
}

describe('FleetScheduleCatchUp (per fleet)', () => {
  it('adds one catch-up to a fleet whose schedule changes capacity, with the changes, sizes and time zone', () => {
    const [resource] = catchUps(OFFICE);
    expect(resource.Properties).toEqual({
      ServiceToken: TOKEN,
      AutoScalingGroupName: { Ref: expect.stringMatching(/^FleetGroup/) },
      TimeZone: 'Europe/Berlin',
      MaxSize: '4',
      DemandScaled: 'false',
      Changes: [
        { Days: 'mon,tue,wed,thu,fri', At: '08:00', MinSize: '2', DesiredCapacity: '2' },
        { Days: 'mon,tue,wed,thu,fri', At: '18:00', MinSize: '0', DesiredCapacity: '0' },
      ],
      LaunchTemplateVersion: { 'Fn::GetAtt': [expect.stringMatching(/^FleetLaunchTemplate/), 'LatestVersionNumber'] },
    });
  });

  it('runs again after every roll of the group (scheduled actions are suspended during one): it carries the version the group runs', () => {
    const { template } = buildFleet(OFFICE, { scheduleCatchUpServiceToken: TOKEN });
    const [group] = Object.values(resourcesOfType(template, 'AWS::AutoScaling::AutoScalingGroup'));
    const [catchUp] = Object.values(resourcesOfType(template, CATCH_UP));
    const policy = group.Properties.MixedInstancesPolicy as { LaunchTemplate: { LaunchTemplateSpecification: { Version: unknown } } };
    expect(catchUp.Properties.LaunchTemplateVersion).toEqual(policy.LaunchTemplate.LaunchTemplateSpecification.Version);
  });

  it('adds none to a fleet without a schedule', () => {
    expect(catchUps({})).toHaveLength(0);
  });

  it('adds none to a constant week: the template holds its capacity', () => {
    expect(catchUps({ schedule: { timeZone: 'UTC', windows: [{ days: 'daily', start: '00:00', end: '24:00' }] } })).toHaveLength(0);
  });

  it('adds none without a service token (a RunnerFleet used outside the fleet app)', () => {
    expect(catchUps(OFFICE, {})).toHaveLength(0);
  });

  it('adds none to a fleet whose capacity something else schedules', () => {
    const { template } = buildFleet(OFFICE, { scheduleCatchUpServiceToken: TOKEN, externallyScheduled: true });
    template.resourceCountIs(CATCH_UP, 0);
  });

  it('runs after the group and every scheduled action exist', () => {
    const { template } = buildFleet(OFFICE, { scheduleCatchUpServiceToken: TOKEN });
    const [catchUp] = Object.values(template.findResources(CATCH_UP)) as Array<{ DependsOn: string[] }>;
    const actions = Object.keys(template.findResources(ACTION));
    expect(actions).toHaveLength(2);
    expect(catchUp.DependsOn).toEqual(expect.arrayContaining([...actions, expect.stringMatching(/^FleetGroup/)]));
  });

  it('has the same properties on every synth, so a deploy without a schedule change does not invoke it', () => {
    expect(catchUps(OFFICE)).toEqual(catchUps(OFFICE));
    // Changes elsewhere in the fleet leave it alone too.
    expect(catchUps({ ...OFFICE, instanceTypes: ['c7g.large'], volumeSizeGiB: 50 })).toEqual(catchUps(OFFICE));
  });

  it.each<[string, Record<string, unknown>]>([
    ['a window moves', { schedule: { ...OFFICE_HOURS, windows: [{ days: 'mon-fri', start: '07:00', end: '18:00' }] } }],
    ['a window capacity changes', { capacity: { min: 0, max: 4, desired: 3 } }],
    ['the time zone changes', { schedule: { ...OFFICE_HOURS, timeZone: 'Europe/London' } }],
    ['the jitter changes', { schedule: { ...OFFICE_HOURS, maxJitterMinutes: 9 } }],
    ['the max changes', { capacity: { min: 0, max: 5, desired: 2 } }],
    ['demand scaling is turned on', { demandScaling: {} }],
  ])('changes its properties when %s, so CloudFormation applies the new schedule at once', (_case, change) => {
    expect(catchUps({ ...OFFICE, ...change })[0].Properties).not.toEqual(catchUps(OFFICE)[0].Properties);
  });
});

describe('scheduled actions of a demand-scaled fleet', () => {
  it("set the window capacity as desired but the demand envelope's floor as min, so the scaler can remove idle instances", () => {
    // GIVEN a demand-scaled fleet with a window of 3 and one warm instance
    const raw = { ...OFFICE, capacity: { min: 0, max: 6, desired: 3 }, demandScaling: { warmInstances: 1 } };
    const { template } = buildFleet(raw, { scheduleCatchUpServiceToken: TOKEN });
    // THEN the morning action brings 3 instances with a floor of 1, the evening one returns to 0
    template.hasResourceProperties(ACTION, { Recurrence: '0 8 * * 1-5', DesiredCapacity: 3, MinSize: 1 });
    template.hasResourceProperties(ACTION, { Recurrence: '0 18 * * 1-5', DesiredCapacity: 0, MinSize: 0 });
    // AND the catch-up carries the same sizes
    const [catchUp] = Object.values(resourcesOfType(template, CATCH_UP));
    expect(catchUp.Properties.DemandScaled).toBe('true');
    expect(catchUp.Properties.Changes).toEqual([
      { Days: 'mon,tue,wed,thu,fri', At: '08:00', MinSize: '1', DesiredCapacity: '3' },
      { Days: 'mon,tue,wed,thu,fri', At: '18:00', MinSize: '0', DesiredCapacity: '0' },
    ]);
  });

  it('keep the window capacity as min when the warm instances cover it', () => {
    const { template } = buildFleet({ ...OFFICE, capacity: { min: 0, max: 6, desired: 2 }, demandScaling: { warmInstances: 3 } });
    template.hasResourceProperties(ACTION, { Recurrence: '0 8 * * 1-5', DesiredCapacity: 2, MinSize: 2 });
  });
});

describe('FleetScheduleCatchUpFunction (shared stack)', () => {
  it('is one named function for the deployment, whatever the number of scheduled fleets', () => {
    const one = apps([rawFleet({ name: 'fleet-a', ...OFFICE })]);
    const three = apps(
      ['fleet-a', 'fleet-b', 'fleet-c'].map((name) => rawFleet({ name, ...OFFICE })),
      { deployment: 'team-a' },
    );
    one.shared.resourcePropertiesCountIs('AWS::Lambda::Function', { FunctionName: 'gitlab-runner-fleet-schedule-catch-up' }, 1);
    three.shared.resourcePropertiesCountIs('AWS::Lambda::Function', { FunctionName: 'gitlab-runner-fleet-team-a--schedule-catch-up' }, 1);
  });

  it('is reached from each fleet stack by an ARN built from its name, not a CloudFormation export', () => {
    const { fleets, shared } = apps([rawFleet({ name: 'fleet-a', ...OFFICE })]);
    const [resource] = Object.values(resourcesOfType(fleets[0], CATCH_UP));
    const token = JSON.stringify(resource.Properties.ServiceToken);
    expect(token).toContain(':function:gitlab-runner-fleet-schedule-catch-up');
    expect(token).not.toContain('ImportValue');
    expect(Object.keys(shared.toJSON().Outputs ?? {}).filter((key) => /ScheduleCatchUp/.test(key))).toEqual([]);
  });

  it('may update only the groups of the scheduled fleets of a config without a deployment name', () => {
    const { shared } = apps([rawFleet({ name: 'office', ...OFFICE }), rawFleet({ name: 'always' })]);
    const statement = grantOf(shared);
    expect(statement.Action).toBe('autoscaling:UpdateAutoScalingGroup');
    const resources = JSON.stringify(statement.Resource);
    expect(resources).toContain('autoScalingGroupName/gitlab-runner-fleet-office');
    expect(resources).not.toContain('gitlab-runner-fleet-always');
  });

  it("may update only the deployment's own groups, by prefix, in a named deployment", () => {
    const { shared } = apps([rawFleet({ name: 'office', ...OFFICE })], { deployment: 'team-a' });
    expect(JSON.stringify(grantOf(shared).Resource)).toContain('autoScalingGroupName/gitlab-runner-fleet.team-a.*');
  });

  it('has no grant when no fleet is scheduled and there is no deployment name to scope one', () => {
    const { shared } = apps([rawFleet({ name: 'always' })]);
    shared.resourcePropertiesCountIs('AWS::Lambda::Function', { FunctionName: 'gitlab-runner-fleet-schedule-catch-up' }, 1);
    expect(JSON.stringify(shared.toJSON())).not.toContain('ApplyScheduleNow');
  });

  it('reports nothing unacknowledged under cdk-nag AwsSolutions', () => {
    const { app } = apps([rawFleet({ name: 'office', ...OFFICE }), rawFleet({ name: 'demand', ...OFFICE, demandScaling: {} })]);
    const report = new AwsSolutionsChecks().validateScope(app);
    expect(report.violations.flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} at ${r.constructPath}`))).toEqual([]);
  });
});

function grantOf(template: Template): { Action: unknown; Resource: unknown } {
  const policies = template.findResources('AWS::IAM::Policy', {
    Properties: { PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Sid: 'ApplyScheduleNow' })]) } },
  });
  const [policy] = Object.values(policies) as Array<{ Properties: { PolicyDocument: { Statement: Array<{ Sid: string }> } } }>;
  return policy.Properties.PolicyDocument.Statement.find((s) => s.Sid === 'ApplyScheduleNow') as unknown as {
    Action: unknown;
    Resource: unknown;
  };
}
