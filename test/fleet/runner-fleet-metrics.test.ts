import { describe, expect, it } from 'vitest';
import { buildFleet } from '../support/stack-helpers';

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
  });
});
