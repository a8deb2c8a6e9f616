import { App, Duration, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { RunnerFleet } from '../../lib/fleet/runner-fleet';
import { Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { describe, expect, it } from 'vitest';
import { buildFleet, fleetSpec, TEST_GITLAB } from '../support/stack-helpers';

describe('RunnerFleet metrics', () => {
  const { fleet } = buildFleet({ name: 'metrics-fleet' });

  it.each([
    ['metricBusySlots', 'BusySlots', 'Maximum'],
    ['metricTotalSlots', 'TotalSlots', 'Maximum'],
    ['metricQueuedJobs', 'QueuedJobs', 'Maximum'],
    ['metricTimeToStart', 'TimeToStartSeconds', 'p95'],
  ] as const)('%s is %s of the fleet in GitLabRunnerFleet', (method, metricName, statistic) => {
    const metric = fleet[method]();
    expect(metric).toMatchObject({ namespace: 'GitLabRunnerFleet', metricName, statistic, dimensions: { Fleet: 'metrics-fleet' } });
  });

  it.each([
    ['metricBootToRegistered', 'BootToRegisteredSeconds', 'p95'],
    ['metricRegistrationFailures', 'RegistrationFailures', 'Sum'],
    ['metricDrainDuration', 'DrainSeconds', 'p95'],
    ['metricDeregistrationFailures', 'DeregistrationFailures', 'Sum'],
    ['metricSpotInterruptions', 'SpotInterruptionNotices', 'Sum'],
    ['metricRebalanceRecommendations', 'SpotRebalanceRecommendations', 'Sum'],
    ['metricJobsFailedByReclaim', 'JobsFailedByReclaim', 'Sum'],
    ['metricSpotFallbackMinutes', 'SpotFallbackMinutes', 'Sum'],
  ] as const)('%s is %s of the fleet over 5 minutes, %s by default', (method, metricName, statistic) => {
    const metric = fleet[method]();
    expect(metric).toMatchObject({ namespace: 'GitLabRunnerFleet', metricName, statistic, dimensions: { Fleet: 'metrics-fleet' } });
    expect(metric.period.toSeconds()).toBe(300);
  });

  it('counts drains with the SampleCount of the drain duration, and takes a p50 of boot time', () => {
    expect(fleet.metricDrainDuration({ statistic: 'SampleCount' }).statistic).toBe('SampleCount');
    expect(fleet.metricBootToRegistered({ statistic: 'p50', period: Duration.hours(1) })).toMatchObject({ statistic: 'p50' });
    expect(fleet.metricBootToRegistered({ period: Duration.hours(1) }).period.toHours()).toBe(1);
  });

  it('lets a user alarm on the boot time from the construct alone', () => {
    const app = new App();
    const stack = new Stack(app, 'UserStack');
    const own = new RunnerFleet(stack, 'Fleet', {
      fleet: fleetSpec({ name: 'metrics-fleet' }),
      gitlab: TEST_GITLAB,
      vpc: new ec2.Vpc(stack, 'Vpc', { natGateways: 0 }),
    });
    new cloudwatch.Alarm(stack, 'SlowBoots', { metric: own.metricBootToRegistered(), threshold: 300, evaluationPeriods: 3 });
    Template.fromStack(stack).hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'GitLabRunnerFleet',
      MetricName: 'BootToRegisteredSeconds',
      Dimensions: [{ Name: 'Fleet', Value: 'metrics-fleet' }],
      ExtendedStatistic: 'p95',
      Period: 300,
      Threshold: 300,
    });
  });

  it('takes options, e.g. another statistic', () => {
    expect(fleet.metricTimeToStart({ statistic: 'p50' }).statistic).toBe('p50');
  });

  it('exposes the group metrics of in-service and draining instances', () => {
    expect(fleet.metricInServiceInstances()).toMatchObject({
      namespace: 'AWS/AutoScaling',
      metricName: 'GroupInServiceInstances',
      dimensions: { AutoScalingGroupName: 'gitlab-runner-fleet-metrics-fleet' },
    });
    expect(fleet.metricDrainingInstances().metricName).toBe('GroupTerminatingInstances');
    expect(fleet.metricBootingInstances().metricName).toBe('GroupPendingInstances');
  });
});
