/**
 * Fleet metrics from the Lambdas as CloudWatch embedded metric format (EMF) log lines. Pure.
 *
 * EMF rather than PutMetricData: the function already writes its log group, CloudWatch extracts
 * the metric from the line, so there is no extra API call on the handler's path (nothing to
 * retry, nothing to time out) and no cloudwatch:PutMetricData permission to grant.
 * Namespace and dimension follow lib/identity/fleet-metrics.ts, like every fleet metric.
 */
import { FLEET_METRIC_DIMENSION, FLEET_METRIC_NAMESPACE, fleetMetricDimensions } from '../../identity/fleet-metrics';

export type MetricUnit = 'Count' | 'None';

/** One EMF log line holding `values` for `fleetName` at `timestamp` (epoch ms). */
export function fleetMetricLine(
  fleetName: string,
  values: Readonly<Record<string, number>>,
  timestamp: number,
  unit: MetricUnit = 'Count',
): string {
  return JSON.stringify({
    _aws: {
      Timestamp: timestamp,
      CloudWatchMetrics: [
        {
          Namespace: FLEET_METRIC_NAMESPACE,
          Dimensions: [[FLEET_METRIC_DIMENSION]],
          Metrics: Object.keys(values).map((name) => ({ Name: name, Unit: unit })),
        },
      ],
    },
    ...fleetMetricDimensions(fleetName),
    ...values,
  });
}
