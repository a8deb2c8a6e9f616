import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { addFleetStacks } from '../../lib/stacks/fleet-app';
import { rawFleet, testConfig } from '../support/stack-helpers';

function shared(
  extra: Record<string, unknown> = {},
  fleets = [rawFleet({ name: 'spot-a', demandScaling: {} }), rawFleet({ name: 'plain-b' })],
) {
  const app = new App({ builtinCloudFormationValidation: false });
  const stacks = addFleetStacks(app, testConfig(fleets, extra));
  return { app, shared: stacks.shared, template: Template.fromStack(stacks.shared) };
}

function dashboardBody(template: Template): string {
  const [dashboard] = Object.values(template.findResources('AWS::CloudWatch::Dashboard'));
  return JSON.stringify(dashboard.Properties.DashboardBody);
}

describe('FleetMonitoring', () => {
  it('builds one dashboard for the deployment with a row per fleet', () => {
    const { template } = shared();
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    const body = dashboardBody(template);
    for (const fleet of ['spot-a', 'plain-b']) {
      expect(body).toContain(`${fleet}: capacity vs busy slots vs queued jobs`);
      expect(body).toContain(`${fleet}: time to start (s)`);
      expect(body).toContain(`${fleet}: booting and draining instances`);
      expect(body).toContain(`${fleet}: estimated cost (USD/h)`);
    }
  });

  it('charts the fleet metrics in the GitLabRunnerFleet namespace by fleet, p50 and p95 of time to start', () => {
    const body = dashboardBody(shared().template);
    expect(body).toMatch(/GitLabRunnerFleet.*QueuedJobs.*Fleet.*spot-a/);
    expect(body).toMatch(/TimeToStartSeconds.*p50/);
    expect(body).toMatch(/TimeToStartSeconds.*p95/);
  });

  it('prices the cost line from the cost module (m7g.large spot in the us-east-1 snapshot)', () => {
    const body = dashboardBody(shared().template);
    expect(body).toMatch(/inService \* 0\.0\d+/);
  });

  it('creates anomaly detectors and band alarms on queued jobs and time to start of demand-scaled fleets', () => {
    const { template } = shared();
    template.resourceCountIs('AWS::CloudWatch::AnomalyDetector', 2);
    template.hasResourceProperties('AWS::CloudWatch::AnomalyDetector', {
      SingleMetricAnomalyDetector: {
        Namespace: 'GitLabRunnerFleet',
        MetricName: 'QueuedJobs',
        Dimensions: [{ Name: 'Fleet', Value: 'spot-a' }],
      },
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      ComparisonOperator: 'GreaterThanUpperThreshold',
      ThresholdMetricId: Match.anyValue(),
      Metrics: Match.arrayWith([
        Match.objectLike({ Expression: Match.stringLikeRegexp('ANOMALY_DETECTION_BAND') }),
        Match.objectLike({ MetricStat: Match.objectLike({ Metric: Match.objectLike({ MetricName: 'TimeToStartSeconds' }), Stat: 'p95' }) }),
      ]),
    });
  });

  it('alarms on instances stuck in Pending:Wait longer than the launch hook timeout', () => {
    shared().template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'GroupPendingInstances',
      Dimensions: [{ Name: 'AutoScalingGroupName', Value: 'gitlab-runner-fleet-plain-b' }],
      Statistic: 'Minimum',
      Period: 300,
      EvaluationPeriods: 4,
    });
  });

  it('alarms on instances stuck in Terminating:Wait longer than a drain may take', () => {
    shared().template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'GroupTerminatingInstances',
      Dimensions: [{ Name: 'AutoScalingGroupName', Value: 'gitlab-runner-fleet-spot-a' }],
      Statistic: 'Minimum',
    });
  });

  it('alarms on scaling errors of a demand-scaled fleet', () => {
    shared().template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ScalingErrors',
      Dimensions: [{ Name: 'Fleet', Value: 'spot-a' }],
    });
  });

  it('sends every alarm to a new topic with the configured email', () => {
    const { template } = shared({ monitoring: { alarmEmail: 'ops@example.com' } });
    template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ops@example.com' });
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm'));
    expect(alarms.length).toBeGreaterThan(5);
    for (const alarm of alarms) expect(alarm.Properties.AlarmActions).toHaveLength(1);
  });

  it('uses an existing topic when alarmTopicArn is set', () => {
    const arn = 'arn:aws:sns:eu-central-1:123456789012:ops';
    const { template } = shared({ monitoring: { alarmTopicArn: arn } });
    template.resourceCountIs('AWS::SNS::Topic', 0);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmActions: [arn] });
  });

  it('has no alarm actions and no topic by default', () => {
    const { template } = shared();
    template.resourceCountIs('AWS::SNS::Topic', 0);
    for (const alarm of Object.values(template.findResources('AWS::CloudWatch::Alarm')))
      expect(alarm.Properties.AlarmActions).toBeUndefined();
  });

  it('can be turned off', () => {
    const { template, shared: stack } = shared({ monitoring: { dashboard: false, alarms: false } });
    expect(stack.monitoring).toBeUndefined();
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 0);
    template.resourceCountIs('AWS::CloudWatch::AnomalyDetector', 0);
  });

  it('is clean under cdk-nag AwsSolutions with an email topic', () => {
    const { app } = shared({ monitoring: { alarmEmail: 'ops@example.com' } });
    const report = new AwsSolutionsChecks().validateScope(app);
    expect(report.violations.flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} ${r.constructPath}`))).toEqual([]);
  });
});
