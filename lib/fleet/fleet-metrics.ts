/**
 * CloudWatch metrics of one fleet, by fleet name: the demand metrics the Lambdas publish and
 * the Auto Scaling group metrics the group collects. Built from names only, so a dashboard or
 * alarm in any stack can use them without a cross-stack reference.
 */
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { DEMAND_METRICS, type DemandMetricName } from '../identity/demand-metrics';
import { FLEET_METRIC_NAMESPACE, fleetMetricDimensions } from '../identity/fleet-metrics';
import { HEALTH_DURATION_METRICS, type HealthMetricName } from '../identity/health-metrics';
import { autoScalingGroupName } from '../identity/runner-identity';

/** A metric in the fleets' namespace (GitLabRunnerFleet, dimension Fleet), with the kind's defaults. */
function fleetNamespaceMetric(
  fleetName: string,
  metricName: string,
  defaults: Pick<cloudwatch.MetricOptions, 'period' | 'statistic'>,
  props: cloudwatch.MetricOptions,
): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: FLEET_METRIC_NAMESPACE,
    metricName,
    dimensionsMap: fleetMetricDimensions(fleetName),
    ...defaults,
    ...props,
  });
}

/** A demand metric of the fleet: per minute, time to start as p95, the rest as Maximum by default. */
export function fleetDemandMetric(
  fleetName: string,
  metricName: DemandMetricName,
  props: cloudwatch.MetricOptions = {},
): cloudwatch.Metric {
  const statistic = metricName === DEMAND_METRICS.timeToStart ? 'p95' : 'Maximum';
  return fleetNamespaceMetric(fleetName, metricName, { period: Duration.minutes(1), statistic }, props);
}

/**
 * A health metric of the fleet (boots, drains, spot; published per event, not per minute): over
 * 5 minutes, durations as p95 and counts as Sum by default.
 */
export function fleetHealthMetric(
  fleetName: string,
  metricName: HealthMetricName,
  props: cloudwatch.MetricOptions = {},
): cloudwatch.Metric {
  const statistic = HEALTH_DURATION_METRICS.has(metricName) ? 'p95' : 'Sum';
  return fleetNamespaceMetric(fleetName, metricName, { period: Duration.minutes(5), statistic }, props);
}

/** An AWS/AutoScaling group metric of the fleet's group (the group collects all of them). */
export function fleetGroupMetric(
  fleet: { readonly name: string; readonly deployment?: string },
  metricName: string,
  props: cloudwatch.MetricOptions = {},
): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: 'AWS/AutoScaling',
    metricName,
    dimensionsMap: { AutoScalingGroupName: autoScalingGroupName(fleet.name, fleet.deployment) },
    period: Duration.minutes(1),
    statistic: 'Maximum',
    ...props,
  });
}
