/**
 * CloudWatch metrics of one fleet, by fleet name: the demand metrics the Lambdas publish and
 * the Auto Scaling group metrics the group collects. Built from names only, so a dashboard or
 * alarm in any stack can use them without a cross-stack reference.
 */
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { DEMAND_METRICS, type DemandMetricName } from '../identity/demand-metrics';
import { FLEET_METRIC_NAMESPACE, fleetMetricDimensions } from '../identity/fleet-metrics';
import { autoScalingGroupName } from '../identity/runner-identity';

/** A demand metric of the fleet (namespace GitLabRunnerFleet, dimension Fleet). */
export function fleetDemandMetric(
  fleetName: string,
  metricName: DemandMetricName,
  props: cloudwatch.MetricOptions = {},
): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: FLEET_METRIC_NAMESPACE,
    metricName,
    dimensionsMap: fleetMetricDimensions(fleetName),
    period: Duration.minutes(1),
    statistic: metricName === DEMAND_METRICS.timeToStart ? 'p95' : 'Maximum',
    ...props,
  });
}

/** An AWS/AutoScaling group metric of the fleet's group (the group collects all of them). */
export function fleetGroupMetric(fleetName: string, metricName: string, props: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: 'AWS/AutoScaling',
    metricName,
    dimensionsMap: { AutoScalingGroupName: autoScalingGroupName(fleetName) },
    period: Duration.minutes(1),
    statistic: 'Maximum',
    ...props,
  });
}
